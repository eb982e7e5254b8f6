using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Notifications;

/// <summary>Bound from <c>Notifications</c>: where portal events are sent, and how patiently.</summary>
internal sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary>
    /// The portal's address as people reach it (e.g. <c>https://deployportal.example.com/</c>). Events carry
    /// paths; without this, Slack messages have no link and JSON bodies carry the bare path.
    /// </summary>
    public Uri? PublicUrl { get; set; }

    /// <summary>Longest wait for one attempt's answer. A receiver that hangs costs a background worker this long, never an action.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Quick retries inside one delivery job (5xx, 408, 429, timeouts, refused connections), with exponential back-off from <see cref="RetryDelay"/>.</summary>
    public int Retries { get; set; } = 2;

    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    public List<WebhookOptions> Webhooks { get; set; } = [];
}

public enum WebhookKind
{
    /// <summary>The portal's own JSON body (see README, "Notifications"), signed when a secret is set.</summary>
    Json,

    /// <summary>A Slack-compatible incoming webhook: <c>{"text": "…"}</c> in Slack's mrkdwn (Mattermost and Rocket.Chat accept it too).</summary>
    Slack,
}

/// <summary>One receiver, e.g. <c>Notifications:Webhooks:0:Name=team-slack</c>.</summary>
internal sealed class WebhookOptions
{
    /// <summary>How delivery jobs name the receiver: jobs carry the name, never the URL or secret, so neither lands in job storage.</summary>
    public string Name { get; set; } = "";

    public Uri? Url { get; set; }

    public WebhookKind Kind { get; set; } = WebhookKind.Json;

    /// <summary>The event kinds this receiver wants; empty means every kind.</summary>
    public List<PortalEventKind> Events { get; set; } = [];

    /// <summary>
    /// When set, each request is signed the Standard Webhooks way (<c>webhook-signature: v1,&lt;base64 HMAC-SHA256 of
    /// id.timestamp.body&gt;</c>); base64 of 24–64 random bytes, optionally prefixed <c>whsec_</c>.
    /// </summary>
    public string? Secret { get; set; }

    public bool Wants(PortalEventKind kind) => Events.Count == 0 || Events.Contains(kind);
}

internal sealed class NotificationOptionsValidator : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions o) => new OptionRules(NotificationOptions.Section)
        .HttpUrl(nameof(o.PublicUrl), o.PublicUrl)
        .Positive(nameof(o.Timeout), o.Timeout)
        .Between(nameof(o.Retries), o.Retries, 0, 10)
        .NotNegative(nameof(o.RetryDelay), o.RetryDelay)
        .Check(o.Webhooks.All(w => !string.IsNullOrWhiteSpace(w.Name)), "Every entry of Notifications:Webhooks needs a Name.")
        .Check(o.Webhooks.Select(w => w.Name.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).Count() == o.Webhooks.Count,
            "The names of Notifications:Webhooks must differ.")
        .Check(o.Webhooks.All(w => w.Url is { IsAbsoluteUri: true, Scheme: "https" or "http" }), "Every entry of Notifications:Webhooks needs an absolute http(s) Url.")
        .Check(o.Webhooks.All(w => string.IsNullOrEmpty(w.Secret) || WebhookMessages.IsValidSecret(w.Secret)),
            "A Notifications:Webhooks Secret is base64 of 24 to 64 random bytes, optionally prefixed whsec_ (e.g. the output of openssl rand -base64 32).")
        .Result();
}

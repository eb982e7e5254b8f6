namespace DeployPortal.Web.Notifications;

/// <summary>Bound from <c>Notifications</c>: where portal events are sent, and how patiently.</summary>
public sealed class NotificationOptions
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
public sealed class WebhookOptions
{
    /// <summary>How delivery jobs name the receiver: jobs carry the name, never the URL or secret, so neither lands in job storage.</summary>
    public string Name { get; set; } = "";

    public Uri? Url { get; set; }

    public WebhookKind Kind { get; set; } = WebhookKind.Json;

    /// <summary>The event kinds this receiver wants; empty means every kind.</summary>
    public List<PortalEventKind> Events { get; set; } = [];

    /// <summary>When set, each request carries <c>X-DeployPortal-Signature: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c>.</summary>
    public string? Secret { get; set; }

    public bool Wants(PortalEventKind kind) => Events.Count == 0 || Events.Contains(kind);
}

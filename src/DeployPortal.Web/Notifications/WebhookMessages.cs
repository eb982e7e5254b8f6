using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using StandardWebhooks;

namespace DeployPortal.Web.Notifications;

/// <summary>
/// Builds the HTTP request for one delivery: Slack's incoming-webhook body or the portal's JSON body, signed the
/// Standard Webhooks way (<c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c> over id, timestamp
/// and body) so a receiver can refuse a captured delivery replayed later.
/// </summary>
internal static class WebhookMessages
{
    public const string EventHeader = "X-DeployPortal-Event";
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <param name="sentAt">This attempt's time: each retry is signed afresh, as the scheme expects.</param>
    public static HttpRequestMessage Build(WebhookOptions receiver, WebhookDelivery delivery, Uri? publicUrl, DateTimeOffset sentAt)
    {
        var link = AbsoluteLink(delivery.Event.Link, publicUrl);
        var body = receiver.Kind == WebhookKind.Slack ? SlackBody(delivery.Event, link) : JsonBody(delivery, link ?? delivery.Event.Link);
        var request = new HttpRequestMessage(HttpMethod.Post, receiver.Url)
        {
            // Bytes, not a stream: the quick retries send the same content again.
            Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") { CharSet = "utf-8" } } },
        };
        request.Headers.Add(EventHeader, delivery.Event.Kind.ToString());
        request.Headers.Add(IdHeader, delivery.Id);
        request.Headers.Add(TimestampHeader, sentAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(receiver.Secret))
        {
            request.Headers.Add(SignatureHeader, new StandardWebhook(receiver.Secret).Sign(delivery.Id, sentAt, Encoding.UTF8.GetString(body)));
        }

        return request;
    }

    /// <summary>
    /// Whether <paramref name="secret"/> is a Standard Webhooks signing secret: base64 of 24 to 64 random bytes, with
    /// or without the <c>whsec_</c> prefix (what <c>openssl rand -base64 32</c> prints).
    /// </summary>
    public static bool IsValidSecret(string secret)
    {
        var key = secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret;
        var bytes = new byte[key.Length];
        return Convert.TryFromBase64String(key, bytes, out var length) && length is >= 24 and <= 64;
    }

    /// <summary>
    /// The generic body, documented in the README: <c>id</c> (the delivery, the same on every retry), <c>kind</c>,
    /// <c>at</c> (UTC), <c>slot</c>, <c>user</c> (<c>{id, name}</c> of the person it is about, or null),
    /// <c>text</c> (one plain sentence) and <c>link</c> (absolute when <c>Notifications:PublicUrl</c> is set).
    /// </summary>
    internal static byte[] JsonBody(WebhookDelivery delivery, string? link)
    {
        var e = delivery.Event;
        return JsonSerializer.SerializeToUtf8Bytes(new JsonMessage(
            delivery.Id, e.Kind, delivery.At, e.Slot,
            e.UserId is null ? null : new JsonUser(e.UserId, e.UserName ?? e.UserId),
            e.Text, link), Json);
    }

    /// <summary>
    /// Slack's mrkdwn: a bold headline, the sentence, and a link in Slack's <c>&lt;url|label&gt;</c> form. Text
    /// from people (purposes, branch names, notes) is escaped so it cannot forge links or mentions.
    /// </summary>
    internal static byte[] SlackBody(PortalEvent e, string? link)
    {
        var text = new StringBuilder();
        text.Append('*').Append(Headline(e.Kind)).Append("* · ").Append(Escape(e.Slot));
        text.Append('\n').Append(Escape(e.Text));
        if (link is not null)
        {
            text.Append('\n').Append('<').Append(link).Append("|Open in DeployPortal>");
        }

        return JsonSerializer.SerializeToUtf8Bytes(new SlackMessage(text.ToString()), Json);
    }

    internal static string Headline(PortalEventKind kind) => kind switch
    {
        PortalEventKind.DeploySucceeded => "Deploy succeeded",
        PortalEventKind.DeployFailed => "Deploy failed",
        PortalEventKind.HoldExpiring => "Hold expiring",
        PortalEventKind.HoldExpired => "Hold expired",
        PortalEventKind.SlotReleased => "Slot released",
        PortalEventKind.WaitlistTurn => "Your turn",
        PortalEventKind.ImageBuilt => "Image built, deploying",
        _ => kind.ToString(),
    };

    // Slack asks for exactly these three to be escaped; everything else is literal.
    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string? AbsoluteLink(string? path, Uri? publicUrl)
    {
        if (string.IsNullOrEmpty(path) || publicUrl is null)
        {
            return null;
        }

        // "https://host/portal" + "/deployments/4" → "https://host/portal/deployments/4" (keep the base path).
        var root = publicUrl.AbsoluteUri.EndsWith('/') ? publicUrl : new Uri(publicUrl.AbsoluteUri + "/");
        return new Uri(root, path.TrimStart('/')).AbsoluteUri;
    }

    private sealed record SlackMessage(string Text)
    {
        [JsonPropertyName("mrkdwn")] public bool Mrkdwn => true;
    }

    private sealed record JsonMessage(string Id, PortalEventKind Kind, DateTime At, string Slot, JsonUser? User, string Text, string? Link);

    private sealed record JsonUser(string Id, string Name);
}

using System.Text.Json.Nodes;
using Google.Protobuf;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>
/// Decodes the Kubernetes Protobuf envelope (<c>application/vnd.kubernetes.protobuf</c>) into the JSON the rest of the
/// emulator works on. kubectl and client-go send built-in kinds that way from typed clients (<c>kubectl create
/// deployment</c>, <c>create configmap</c>, <c>run</c>, <c>auth can-i</c>). Only the message shapes those requests use
/// are described here, with the field numbers of the Kubernetes API's <c>generated.proto</c>; a populated field the
/// table does not know is refused, so nothing a client sent is silently lost.
/// </summary>
internal static class Protobuf
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";
    private static readonly byte[] Magic = [(byte)'k', (byte)'8', (byte)'s', 0];

    public static bool IsProtobuf(string? contentType) =>
        contentType is not null && contentType.StartsWith(MediaType, StringComparison.OrdinalIgnoreCase);

    /// <summary>Decodes an envelope that must hold <paramref name="expectedKind"/>.</summary>
    public static JsonObject Decode(byte[] body, string expectedKind)
    {
        if (body.Length < Magic.Length || !body.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw ApiError.BadRequest("the protobuf body does not start with the Kubernetes envelope prefix");
        }

        string? apiVersion = null, kind = null;
        byte[]? raw = null;
        try
        {
            // runtime.Unknown: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType.
            var input = new CodedInputStream(body, Magic.Length, body.Length - Magic.Length);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1:
                        var meta = new CodedInputStream(input.ReadBytes().ToByteArray());
                        uint t;
                        while ((t = meta.ReadTag()) != 0)
                        {
                            if (WireFormat.GetTagFieldNumber(t) == 1)
                            {
                                apiVersion = meta.ReadString();
                            }
                            else if (WireFormat.GetTagFieldNumber(t) == 2)
                            {
                                kind = meta.ReadString();
                            }
                            else
                            {
                                meta.SkipLastField();
                            }
                        }

                        break;
                    case 2:
                        raw = input.ReadBytes().ToByteArray();
                        break;
                    default:
                        input.SkipLastField();
                        break;
                }
            }
            if (kind != expectedKind || !ProtobufSchema.Messages.ContainsKey(kind))
            {
                throw ApiError.UnsupportedMediaType($"{MediaType} for {kind ?? "an unnamed kind"} (the emulator decodes Protobuf for the kinds it serves; send JSON)");
            }

            var obj = DecodeMessage(raw ?? [], kind);
            var result = new JsonObject { ["kind"] = kind, ["apiVersion"] = apiVersion };
            foreach (var (k, v) in obj.ToList())
            { obj.Remove(k); result[k] = v; }
            return result;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw ApiError.BadRequest($"error decoding the protobuf body: {e.Message}");
        }
    }

    private static JsonObject DecodeMessage(byte[] bytes, string message)
    {
        var result = new JsonObject();
        if (message == "Dropped")
        {
            return result;
        }

        var fields = ProtobufSchema.Messages[message];
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            if (!fields.TryGetValue(number, out var field))
            {
                if (!IsEmpty(input, tag))
                {
                    throw ApiError.UnsupportedMediaType($"{MediaType} with field {number} of {message}, which the emulator does not decode (send JSON, e.g. kubectl apply -f)");
                }

                continue;
            }
            var value = ReadValue(input, field);
            if (field.Name == "-")
            {
                foreach (var (k, v) in value!.AsObject().ToList())
                { value.AsObject().Remove(k); result[k] = v; }
                continue;
            }
            if (field.Repeated || field.Type is "map" or "ymap" or "qmap")
            {
                var existing = result[field.Name];
                if (field.Repeated)
                {
                    ((existing as JsonArray) ?? (JsonArray)(result[field.Name] = new JsonArray())).Add(value);
                }
                else
                {
                    var map = (existing as JsonObject) ?? (JsonObject)(result[field.Name] = new JsonObject());
                    var entry = value!.AsObject();
                    map[(string?)entry["key"] ?? ""] = entry["value"]?.DeepClone();
                }
                continue;
            }
            if (value is null || (!field.KeepZero && IsZero(value)))
            {
                continue; // Go's omitempty
            }

            result[field.Name] = value;
        }
        return result;
    }

    private static JsonNode? ReadValue(CodedInputStream input, ProtobufSchema.Field field) => field.Type switch
    {
        "s" => input.ReadString(),
        "i" => input.ReadInt64(),
        "b" => input.ReadBool(),
        "y" => Convert.ToBase64String(input.ReadBytes().ToByteArray()),
        "map" or "ymap" or "qmap" => MapEntry(input.ReadBytes().ToByteArray(), field.Type),
        "ios" => IntOrString(input.ReadBytes().ToByteArray()),
        "time" => Time(input.ReadBytes().ToByteArray()),
        _ => DecodeMessage(input.ReadBytes().ToByteArray(), field.Type),
    };

    private static bool IsZero(JsonNode value) => value switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length == 0,
        JsonValue v when v.TryGetValue<long>(out var l) => l == 0,
        JsonValue v when v.TryGetValue<bool>(out var b) => !b,
        _ => false,
    };

    /// <summary>Whether an unknown field carries nothing (Go writes zero values of non-pointer fields).</summary>
    private static bool IsEmpty(CodedInputStream input, uint tag) => WireFormat.GetTagWireType(tag) switch
    {
        WireFormat.WireType.Varint => input.ReadUInt64() == 0,
        WireFormat.WireType.LengthDelimited => input.ReadBytes().Length == 0,
        _ => false,
    };

    private static JsonObject MapEntry(byte[] bytes, string type)
    {
        var entry = new JsonObject();
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    entry["key"] = input.ReadString();
                    break;
                case 2:
                    entry["value"] = type switch
                    {
                        "ymap" => Convert.ToBase64String(input.ReadBytes().ToByteArray()),
                        "qmap" => Quantity(input.ReadBytes().ToByteArray()),
                        _ => input.ReadString(),
                    };
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        entry["value"] ??= type == "qmap" ? null : "";
        return entry;
    }

    /// <summary>resource.Quantity: 1 string.</summary>
    private static string Quantity(byte[] bytes)
    {
        var input = new CodedInputStream(bytes);
        var text = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1)
            {
                text = input.ReadString();
            }
            else
            {
                input.SkipLastField();
            }
        }

        return text;
    }

    /// <summary>intstr.IntOrString: 1 type (0 int, 1 string), 2 intVal, 3 strVal.</summary>
    private static JsonNode IntOrString(byte[] bytes)
    {
        var input = new CodedInputStream(bytes);
        long type = 0, intVal = 0;
        var strVal = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    type = input.ReadInt64();
                    break;
                case 2:
                    intVal = input.ReadInt64();
                    break;
                case 3:
                    strVal = input.ReadString();
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return type == 1 ? JsonValue.Create(strVal) : JsonValue.Create(intVal);
    }

    /// <summary>metav1.Time: 1 seconds, 2 nanos; the zero time is JSON null (and so left out).</summary>
    private static JsonNode? Time(byte[] bytes)
    {
        var input = new CodedInputStream(bytes);
        long seconds = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1)
            {
                seconds = input.ReadInt64();
            }
            else
            {
                input.SkipLastField();
            }
        }

        return seconds == 0 || seconds == -62135596800 ? null : Store.Json.Time(DateTimeOffset.FromUnixTimeSeconds(seconds));
    }
}

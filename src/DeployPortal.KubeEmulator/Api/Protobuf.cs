using System.Globalization;
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

    // Field lists: "number name type", where type is s (string), i (integer), b (bool), y (bytes, base64 in JSON),
    // map (string to string), ymap (string to bytes), qmap (string to Quantity), ios (IntOrString), time, or a message
    // name; a leading * marks a repeated field, a trailing ! an optional scalar whose zero value is kept (a pointer in
    // Go), and the name "-" a message inlined into its parent (IngressRule's value). "Dropped" stands for a message whose
    // content is ignored: a status is the server's to write.
    private static readonly Dictionary<string, string> Shapes = new()
    {
        ["ObjectMeta"] = "1 name s; 2 generateName s; 3 namespace s; 4 selfLink s; 5 uid s; 6 resourceVersion s; 7 generation i; 8 creationTimestamp time; 10 deletionGracePeriodSeconds i!; 11 labels map; 12 annotations map; 13 ownerReferences *OwnerReference; 14 finalizers *s",
        ["OwnerReference"] = "1 kind s; 3 name s; 4 uid s; 5 apiVersion s; 6 controller b!; 7 blockOwnerDeletion b!",
        ["LabelSelector"] = "1 matchLabels map; 2 matchExpressions *LabelSelectorRequirement",
        ["LabelSelectorRequirement"] = "1 key s; 2 operator s; 3 values *s",

        ["Namespace"] = "1 metadata ObjectMeta; 2 spec NamespaceSpec; 3 status Dropped",
        ["NamespaceSpec"] = "1 finalizers *s",
        ["ConfigMap"] = "1 metadata ObjectMeta; 2 data map; 3 binaryData ymap; 4 immutable b!",
        ["Secret"] = "1 metadata ObjectMeta; 2 data ymap; 3 type s; 4 stringData map; 5 immutable b!",
        ["Pod"] = "1 metadata ObjectMeta; 2 spec PodSpec; 3 status Dropped",
        ["PodTemplateSpec"] = "1 metadata ObjectMeta; 2 spec PodSpec",
        ["PodSpec"] = "2 containers *Container; 3 restartPolicy s; 4 terminationGracePeriodSeconds i!; 5 activeDeadlineSeconds i!; 6 dnsPolicy s; 7 nodeSelector map; 8 serviceAccountName s; 9 serviceAccount s; 10 nodeName s; 11 hostNetwork b; 15 imagePullSecrets *LocalObjectReference; 16 hostname s; 17 subdomain s; 19 schedulerName s; 20 initContainers *Container; 21 automountServiceAccountToken b!; 24 priorityClassName s; 30 enableServiceLinks b!",
        ["Container"] = "1 name s; 2 image s; 3 command *s; 4 args *s; 5 workingDir s; 6 ports *ContainerPort; 7 env *EnvVar; 8 resources ResourceRequirements; 13 terminationMessagePath s; 14 imagePullPolicy s; 16 stdin b; 17 stdinOnce b; 18 tty b; 20 terminationMessagePolicy s",
        ["ContainerPort"] = "1 name s; 2 hostPort i; 3 containerPort i; 4 protocol s; 5 hostIP s",
        ["EnvVar"] = "1 name s; 2 value s",
        ["ResourceRequirements"] = "1 limits qmap; 2 requests qmap",
        ["LocalObjectReference"] = "1 name s",
        ["Service"] = "1 metadata ObjectMeta; 2 spec ServiceSpec; 3 status Dropped",
        ["ServiceSpec"] = "1 ports *ServicePort; 2 selector map; 3 clusterIP s; 4 type s; 5 externalIPs *s; 7 sessionAffinity s; 8 loadBalancerIP s; 10 externalName s; 11 externalTrafficPolicy s; 17 ipFamilyPolicy s; 18 clusterIPs *s; 19 ipFamilies *s; 22 internalTrafficPolicy s",
        ["ServicePort"] = "1 name s; 2 protocol s; 3 port i; 4 targetPort ios; 5 nodePort i; 6 appProtocol s",

        ["Deployment"] = "1 metadata ObjectMeta; 2 spec DeploymentSpec; 3 status Dropped",
        ["DeploymentSpec"] = "1 replicas i!; 2 selector LabelSelector; 3 template PodTemplateSpec; 4 strategy DeploymentStrategy; 5 minReadySeconds i; 6 revisionHistoryLimit i!; 7 paused b; 9 progressDeadlineSeconds i!",
        ["DeploymentStrategy"] = "1 type s; 2 rollingUpdate RollingUpdateDeployment",
        ["RollingUpdateDeployment"] = "1 maxUnavailable ios; 2 maxSurge ios",

        ["Ingress"] = "1 metadata ObjectMeta; 2 spec IngressSpec; 3 status Dropped",
        ["IngressSpec"] = "1 defaultBackend IngressBackend; 2 tls *IngressTLS; 3 rules *IngressRule; 4 ingressClassName s",
        ["IngressTLS"] = "1 hosts *s; 2 secretName s",
        ["IngressRule"] = "1 host s; 2 - IngressRuleValue",
        ["IngressRuleValue"] = "1 http HTTPIngressRuleValue",
        ["HTTPIngressRuleValue"] = "1 paths *HTTPIngressPath",
        ["HTTPIngressPath"] = "1 path s; 2 backend IngressBackend; 3 pathType s",
        ["IngressBackend"] = "4 service IngressServiceBackend",
        ["IngressServiceBackend"] = "1 name s; 2 port ServiceBackendPort",
        ["ServiceBackendPort"] = "1 name s; 2 number i",

        ["SelfSubjectAccessReview"] = "1 metadata ObjectMeta; 2 spec SelfSubjectAccessReviewSpec; 3 status Dropped",
        ["SelfSubjectAccessReviewSpec"] = "1 resourceAttributes ResourceAttributes; 2 nonResourceAttributes NonResourceAttributes",
        ["ResourceAttributes"] = "1 namespace s; 2 verb s; 3 group s; 4 version s; 5 resource s; 6 subresource s; 7 name s",
        ["NonResourceAttributes"] = "1 path s; 2 verb s",
        ["SelfSubjectRulesReview"] = "1 metadata ObjectMeta; 2 spec SelfSubjectRulesReviewSpec; 3 status Dropped",
        ["SelfSubjectRulesReviewSpec"] = "1 namespace s",
        ["SelfSubjectReview"] = "1 metadata ObjectMeta; 2 status Dropped",
    };

    private sealed record Field(string Name, string Type, bool Repeated, bool KeepZero);

    private static readonly Dictionary<string, Dictionary<int, Field>> Messages = Shapes.ToDictionary(
        s => s.Key,
        s => s.Value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(f => f.Split(' ')).ToDictionary(
            f => int.Parse(f[0], CultureInfo.InvariantCulture),
            f => new Field(f[1], f[2].Trim('*', '!'), f[2].StartsWith('*'), f[2].EndsWith('!'))));

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
            if (kind != expectedKind || !Messages.ContainsKey(kind))
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

        var fields = Messages[message];
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

    private static JsonNode? ReadValue(CodedInputStream input, Field field) => field.Type switch
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

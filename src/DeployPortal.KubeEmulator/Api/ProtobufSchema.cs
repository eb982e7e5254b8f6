using System.Globalization;

namespace DeployPortal.KubeEmulator.Api;

/// <summary>
/// The message shapes <see cref="Protobuf"/> decodes, with the field numbers of the Kubernetes API's
/// <c>generated.proto</c>.
/// </summary>
internal static class ProtobufSchema
{
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

    public sealed record Field(string Name, string Type, bool Repeated, bool KeepZero);

    public static readonly Dictionary<string, Dictionary<int, Field>> Messages = Shapes.ToDictionary(
        s => s.Key,
        s => s.Value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(f => f.Split(' ')).ToDictionary(
            f => int.Parse(f[0], CultureInfo.InvariantCulture),
            f => new Field(f[1], f[2].Trim('*', '!'), f[2].StartsWith('*'), f[2].EndsWith('!'))));
}

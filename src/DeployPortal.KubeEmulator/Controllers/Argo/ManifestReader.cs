using System.Text.Json.Nodes;
using DeployPortal.KubeEmulator.Store;
using k8s;

namespace DeployPortal.KubeEmulator.Controllers.Argo;

/// <summary>A manifest file could not be read as Kubernetes objects; the message names the file.</summary>
internal sealed class ManifestException(string message) : Exception(message);

/// <summary>
/// Reads plain manifest files (YAML, several documents each, or JSON) into the objects to apply, with the namespace
/// each goes to: its own <c>metadata.namespace</c>, else the Application's destination namespace.
/// </summary>
internal sealed class ManifestReader
{
    public IReadOnlyList<(ResourceKind Kind, string Namespace, JsonObject Object)> Read(IEnumerable<(string Name, string Text)> files, string destination)
    {
        var result = new List<(ResourceKind, string, JsonObject)>();
        foreach (var (file, text) in files)
        {
            List<object> documents;
            try
            {
                documents = KubernetesYaml.LoadAllFromString(text);
            }
            catch (Exception e)
            {
                // The client's YAML reader throws several kinds (an unknown kind, bad YAML, a field of the wrong type): all are the file's fault.
                throw new ManifestException($"{file}: {e.Message}");
            }

            foreach (var document in documents.Where(d => d is not null))
            {
                var obj = JsonNode.Parse(KubernetesJson.Serialize(document))!.AsObject();
                var (apiVersion, kindName) = (Json.Str(obj, "apiVersion"), Json.Str(obj, "kind"));
                var kind = ResourceKind.All.FirstOrDefault(k => k.ApiVersion == apiVersion && k.Kind == kindName)
                    ?? throw new ManifestException($"{file}: the server could not find the requested resource {apiVersion}/{kindName}");
                var ns = kind.Namespaced ? Json.Str(obj, "metadata", "namespace") ?? destination : "";
                if (kind.Namespaced)
                {
                    Json.Obj(obj, "metadata")["namespace"] = ns;
                }

                result.Add((kind, ns, obj));
            }
        }

        return result;
    }
}

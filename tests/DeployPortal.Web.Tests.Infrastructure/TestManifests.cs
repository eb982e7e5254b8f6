using DeployPortal.Web.Cluster;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>An app's objects as the portal builds them, for tests that need pods in the emulator without a deployment.</summary>
internal static class TestManifests
{
    public static ManifestBuilder Builder { get; } = new(Options.Create(new ClusterOptions()));

    public static AppManifest For(string ns, string app, string image) =>
        new(ns, ns, app, image, 8080, 1, new Dictionary<string, string>(), "10m", "16Mi",
            new ManifestOrigin(1, null, "main", "0123456789abcdef", "tester", "Test Person"));

    public static Task ApplyAsync(ClusterGateway gateway, string ns, string app, string image) =>
        gateway.ApplyAsync(Builder.Build(For(ns, app, image)), default);
}

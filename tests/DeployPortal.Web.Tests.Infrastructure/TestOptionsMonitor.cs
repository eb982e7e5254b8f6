using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>A fixed <see cref="IOptionsMonitor{T}"/> for services built by hand in tests.</summary>
public sealed class TestOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue { get; set; } = value;
    public T Get(string? name) => CurrentValue;
    public IDisposable? OnChange(Action<T, string?> listener) => null;
}

using System.Text.Json;
using DeployPortal.Web.Slots;
using Microsoft.Extensions.Configuration;

namespace DeployPortal.Web.Tests.Slots;

/// <summary>The one query a poll sends, per preset and as the operator writes it, and how the answer maps to slots.</summary>
public sealed class AppTrafficQueryTests
{
    private static readonly string[] Namespaces = ["qa-2", "qa-10", "qa-1"];

    [Fact]
    public void IngressNginx_GroupsTheControllersCounterByExportedNamespace_ForEveryHeldSlotAtOnce()
    {
        var o = new PrometheusActivityOptions();
        Assert.Equal(
            "sum by (exported_namespace) (increase(nginx_ingress_controller_requests{exported_namespace=~\"qa-1|qa-10|qa-2\"}[120s]))",
            AppTrafficQuery.Render(o, Namespaces));
        Assert.Equal("exported_namespace", AppTrafficQuery.Label(o));
    }

    [Fact]
    public void Traefik_GroupsServiceCountersByServiceNamesThatStartWithTheNamespace()
    {
        var o = new PrometheusActivityOptions { Preset = AppTrafficPreset.Traefik, PollEvery = TimeSpan.FromMinutes(5) };
        Assert.Equal(
            "sum by (service) (increase(traefik_service_requests_total{service=~\"(qa-1|qa-10|qa-2)-.+\"}[600s]))",
            AppTrafficQuery.Render(o, Namespaces));
        Assert.Equal("service", AppTrafficQuery.Label(o));
    }

    [Fact]
    public void OwnQuery_FillsItsPlaceholders_AndLeavesOutAnythingThatIsNotANamespaceName()
    {
        var o = new PrometheusActivityOptions { Query = "sum by (ns) (rate(http_requests_total{ns=~\"{namespaces}\"}[{window}]))", Label = "ns" };
        Assert.Equal("sum by (ns) (rate(http_requests_total{ns=~\"qa-1\"}[120s]))", AppTrafficQuery.Render(o, ["qa-1", "x\"}) or vector(1", "QA-2"]));
        Assert.Equal("ns", AppTrafficQuery.Label(o));
    }

    [Theory]
    [InlineData("qa-1", "qa-1")]
    [InlineData("qa-10", "qa-10")]
    [InlineData("qa-1-storefront-80@kubernetes", "qa-1")]
    [InlineData("qa-10-storefront-80@kubernetes", "qa-10")]
    [InlineData("qa-3-storefront-80@kubernetes", null)]
    [InlineData("qa", null)]
    public void Match_NamesTheNamespaceOrTheLongestNamespacePrefix(string value, string? expected) =>
        Assert.Equal(expected, AppTrafficQuery.Match(value, Namespaces));

    [Fact]
    public void Busy_IsTheNamespacesWithRequests_NotThoseAtZero()
    {
        using var answer = JsonDocument.Parse("""
            {"status":"success","data":{"resultType":"vector","result":[
              {"metric":{"service":"qa-1-storefront-80@kubernetes"},"value":[1733350000.1,"12.5"]},
              {"metric":{"service":"qa-10-payments-80@kubernetes"},"value":[1733350000.1,"0"]},
              {"metric":{"service":"other-web-80@kubernetes"},"value":[1733350000.1,"40"]},
              {"metric":{},"value":[1733350000.1,"3"]}]}}
            """);
        Assert.Equal(["qa-1"], AppTrafficQuery.Busy(answer.RootElement, "service", Namespaces));
    }

    [Fact]
    public void Busy_RefusesAnErrorAnswer()
    {
        using var answer = JsonDocument.Parse("""{"status":"error","errorType":"bad_data","error":"parse error"}""");
        Assert.Throws<JsonException>(() => AppTrafficQuery.Busy(answer.RootElement, "service", Namespaces));
    }

    [Theory]
    [InlineData("Activity:Prometheus:Url", "ftp://prometheus:9090", "Activity:Prometheus:Url must be an absolute http(s) address.")]
    [InlineData("Activity:Prometheus:PollEvery", "00:00:30", "Activity:Prometheus:PollEvery must be whole minutes between 00:01:00 and 01:00:00.")]
    [InlineData("Activity:Prometheus:PollEvery", "00:01:30", "Activity:Prometheus:PollEvery must be whole minutes between 00:01:00 and 01:00:00.")]
    [InlineData("Activity:Prometheus:Query", "sum(up)", "Activity:Prometheus:Label must name the namespace label of your own Query's result.")]
    [InlineData("Activity:Prometheus:Timeout", "00:00:00", "Activity:Prometheus:Timeout must be positive.")]
    public void BadSettings_AreRefusedWithASentence(string key, string value, string message)
    {
        var o = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build()
            .GetSection(ActivityOptions.Section).Get<ActivityOptions>() ?? new ActivityOptions();
        var result = new ActivityOptionsValidator().Validate(null, o);
        Assert.Contains(message, result.Failures ?? []);
    }

    [Fact]
    public void NothingConfigured_IsValid_AndReadsNothing()
    {
        var o = new ActivityOptions();
        Assert.Null(o.Prometheus.Url);
        Assert.True(new ActivityOptionsValidator().Validate(null, o).Succeeded);
    }
}

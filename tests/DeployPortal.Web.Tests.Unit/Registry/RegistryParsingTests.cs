using System.Text;
using DeployPortal.Web.Registry;

namespace DeployPortal.Web.Tests.Registry;

public sealed class RegistryParsingTests
{
    [Theory]
    [InlineData("registry.example.com/shop/web:feature-x", "registry.example.com", "shop/web", "feature-x", null)]
    [InlineData("127.0.0.1:5000/shop/web", "127.0.0.1:5000", "shop/web", "latest", null)]
    [InlineData("nginx:1.27", "docker.io", "library/nginx", "1.27", null)]
    [InlineData("ghcr.io/acme/api@sha256:abc", "ghcr.io", "acme/api", null, "sha256:abc")]
    [InlineData("localhost/team/app:1", "localhost", "team/app", "1", null)]
    public void Image_names_are_taken_apart_as_docker_does(string image, string host, string repository, string? tag, string? digest)
    {
        var name = ImageName.Parse(image);

        Assert.Equal((host, repository, tag, digest), (name.Host, name.Repository, name.Tag, name.Digest));
    }

    [Theory]
    [InlineData(1, 15)]
    [InlineData(2, 30)]
    [InlineData(3, 60)]
    [InlineData(4, 120)]
    [InlineData(5, 240)]
    [InlineData(6, 300)]
    [InlineData(40, 300)]
    public void A_waiting_deployment_is_checked_again_after_15_s_doubling_to_5_min(int checks, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), ImageWait.Recheck(checks));
    }

    [Theory]
    [InlineData("00:00:30", null, "Registry:WaitForImageLimit must be between 00:01:00 and 1.00:00:00.")]
    [InlineData("2.00:00:00", null, "Registry:WaitForImageLimit must be between 00:01:00 and 1.00:00:00.")]
    [InlineData("00:45:00", "short", "Registry:EventsToken must be at least 16 characters (a shared secret), or unset to turn the events endpoint off.")]
    public void Wait_and_events_settings_are_checked_at_start(string limit, string? token, string failure)
    {
        var result = new RegistryOptionsValidator().Validate(null, new RegistryOptions { WaitForImageLimit = TimeSpan.Parse(limit, System.Globalization.CultureInfo.InvariantCulture), EventsToken = token });

        Assert.Equal([failure], result.Failures);
    }

    [Fact]
    public void A_bearer_challenge_names_its_realm_service_and_scope()
    {
        var challenge = RegistryChallenge.Parse("Bearer", "realm=\"https://auth.example.com/token\",service=\"registry.example.com\",scope=\"repository:shop/web:pull\"");

        Assert.True(challenge.IsBearer);
        Assert.Equal("https://auth.example.com/token?service=registry.example.com&scope=repository%3Ashop%2Fweb%3Apull",
            challenge.TokenUri("repository:other:pull").ToString());
    }

    [Fact]
    public void A_dockerconfigjson_gives_the_credentials_for_its_host_in_either_form()
    {
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("robot$ci:p:ss"));
        var json = """{"auths":{"https://index.docker.io/v1/":{"auth":"AUTH"},"ghcr.io":{"username":"bot","password":"tok"}}}""".Replace("AUTH", auth, StringComparison.Ordinal);

        Assert.Equal(new RegistryCredential("robot$ci", "p:ss"), RegistryCredentials.FromDockerConfig(json, "docker.io"));
        Assert.Equal(new RegistryCredential("bot", "tok"), RegistryCredentials.FromDockerConfig(json, "ghcr.io"));
        Assert.Null(RegistryCredentials.FromDockerConfig(json, "quay.io"));
    }
}

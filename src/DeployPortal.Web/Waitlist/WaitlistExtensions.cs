namespace DeployPortal.Web.Waitlist;

public static class WaitlistExtensions
{
    public static WebApplicationBuilder AddWaitlist(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<WaitlistHandover>();
        builder.Services.AddScoped<WaitlistService>();
        return builder;
    }
}

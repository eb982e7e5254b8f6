using System.Security.Claims;
using DeployPortal.Web.Apps;
using DeployPortal.Web.Common;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Git;
using DeployPortal.Web.Registry;
using DeployPortal.Web.Slots;

namespace DeployPortal.Web.Api;

/// <summary>
/// Body of <c>POST /api/v1/deployments</c>. The slot by id or by name; purpose and hold length are needed
/// only when the slot is free (it is claimed in the same step). <c>whenBuilt: true</c> waits for an image the
/// registry does not hold yet (state WaitingForImage) instead of answering 409.
/// </summary>
internal sealed record DeployBody(string? App, string? Branch, int? SlotId = null, string? Slot = null, string? Purpose = null, TimeSpan? HoldFor = null, bool? WhenBuilt = null);

internal sealed record AppSummary(string Name, string Description, string ImageRepository, string TagTemplate, int Replicas);

/// <summary>Deployments, apps and branches for CI: the same services the pages use, so the same rules apply.</summary>
internal static class DeploymentsApi
{
    public static RouteGroupBuilder MapDeploymentsApi(this RouteGroupBuilder api)
    {
        var apps = api.MapGroup("/apps").WithTags("Apps");
        apps.MapGet("/", (AppCatalog catalog) => TypedResults.Ok(catalog.All.Select(a => new AppSummary(a.Name, a.Description, a.ImageRepository, a.TagTemplate, a.Replicas))))
            .WithName("ListApps").WithSummary("The apps that can be deployed.");
        apps.MapGet("/{app}/branches", async Task<IResult> (string app, bool? refresh, AppCatalog catalog, BranchCatalog branches, CancellationToken ct) =>
            {
                if (catalog.Find(app) is not { } definition)
                {
                    return ApiResults.Problem(Fail.NotFound($"There is no app called {app}."));
                }

                try
                {
                    return TypedResults.Ok(await branches.ListAsync(definition, refresh == true, ct));
                }
                catch (GitException ex)
                {
                    return TypedResults.Problem(detail: ex.Message, statusCode: StatusCodes.Status502BadGateway, title: "The repository did not answer");
                }
            })
            .WithName("ListBranches").WithSummary("The app's branches with their commits (cached briefly; refresh=true asks the remote).")
            .Produces<IReadOnlyList<RemoteBranch>>().ProducesProblem(404).ProducesProblem(502);

        apps.MapGet("/{app}/image", async Task<IResult> (string app, string? branch, AppCatalog catalog, BranchCatalog branches, ImagePreflight preflight, CancellationToken ct) =>
            {
                if (catalog.Find(app) is not { } definition)
                {
                    return ApiResults.Problem(Fail.NotFound($"There is no app called {app}."));
                }

                if (string.IsNullOrWhiteSpace(branch))
                {
                    return ApiResults.Problem(Fail.Invalid("Name the branch (?branch=…)."));
                }

                try
                {
                    return await preflight.CheckAsync(definition, branch, ct) is { } view
                        ? TypedResults.Ok(view)
                        : ApiResults.Problem(Fail.NotFound(BranchNames.NotFound(definition.Name, branch, (await branches.ListAsync(definition, false, ct)).Select(b => b.Name))));
                }
                catch (GitException ex)
                {
                    return TypedResults.Problem(detail: ex.Message, statusCode: StatusCodes.Status502BadGateway, title: "The repository did not answer");
                }
            })
            .WithName("ImagePreflight")
            .WithSummary("What the registry holds for a branch's image: its digest and when it was pushed, or \"not built yet\" (checked only when a registry is configured for the app's image host).")
            .Produces<ImagePreflightView>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(502);

        var deployments = api.MapGroup("/deployments").WithTags("Deployments");
        deployments.MapGet("/", async (int? take, DeploymentService service, CancellationToken ct) =>
                TypedResults.Ok(await service.RecentAsync(Math.Clamp(take ?? 50, 1, 200), ct)))
            .WithName("ListDeployments").WithSummary("The most recent deployments, newest first.");

        deployments.MapGet("/{id:long}", async Task<IResult> (long id, DeploymentService service, CancellationToken ct) =>
                await service.GetAsync(id, ct) is { } d ? TypedResults.Ok(d) : ApiResults.Problem(Fail.NotFound("That deployment does not exist.")))
            .WithName("GetDeployment").WithSummary("A deployment with its steps; poll it until State is Succeeded, Failed or Cancelled.")
            .Produces<DeploymentView>().ProducesProblem(404);

        deployments.MapPost("/", async Task<IResult> (DeployBody body, ClaimsPrincipal user, DeploymentService service, CancellationToken ct) =>
            {
                // "any": the first free slot, else a new elastic slot when the pool allows (Slots:Elastic).
                var slotId = body.SlotId ?? (body.Slot == "any" ? ElasticPool.AnySlot : (await service.SlotChoicesAsync(ct)).FirstOrDefault(s => s.Name == body.Slot)?.Id);
                if (slotId is null)
                {
                    return ApiResults.Problem(body.Slot is null
                        ? Fail.Invalid("Name the slot (slotId or slot).")
                        : Fail.NotFound($"There is no slot called \"{(body.Slot.Length > 63 ? body.Slot[..63] + "…" : body.Slot)}\"; GET /api/v1/slots lists them."));
                }

                return ApiResults.From(await service.CreateAsync(user, new DeployRequest(body.App ?? "", body.Branch ?? "", slotId.Value, body.Purpose, body.HoldFor, body.WhenBuilt == true), ct),
                    d => TypedResults.Accepted($"/api/v1/deployments/{d.Id}", d));
            })
            .WithName("Deploy").WithSummary("Deploy a branch into a slot (claims the slot when it is free; slot \"any\" takes the first free slot, or a new elastic one). Answers 202 with the queued deployment (WaitingForImage with whenBuilt when its image is not built yet).")
            .Produces<DeploymentView>(StatusCodes.Status202Accepted).ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        deployments.MapPost("/{id:long}/cancel", async (long id, ClaimsPrincipal user, DeploymentService service, CancellationToken ct) =>
                ApiResults.From(await service.CancelAsync(user, id, ct), state => TypedResults.Ok(new { id, state })))
            .WithName("CancelDeployment").WithSummary("Cancel a queued deployment or one waiting for its image, or stop a running one at its next step.")
            .ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        return api;
    }
}

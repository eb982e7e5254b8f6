using System.Security.Claims;
using DeployPortal.Web.Common;
using DeployPortal.Web.Waitlist;

namespace DeployPortal.Web.Api;

/// <summary>
/// Body of <c>POST /api/v1/queue</c>: deploy App@Branch into the slot named (by id or name; neither: any slot) when it
/// frees, holding it for HoldFor ("hh:mm:ss"; the default hold length when absent).
/// </summary>
internal sealed record JoinQueueBody(string? App, string? Branch, string? Purpose, int? SlotId = null, string? Slot = null, TimeSpan? HoldFor = null);

/// <summary>The queue for CI: the same <see cref="WaitlistService"/> the deploy form and the queue page use, so the same rules apply.</summary>
internal static class QueueApi
{
    public static RouteGroupBuilder MapQueueApi(this RouteGroupBuilder api)
    {
        var queue = api.MapGroup("/queue").WithTags("Queue");

        queue.MapGet("/", async (WaitlistService service, CancellationToken ct) => TypedResults.Ok(await service.GetQueueAsync(ct)))
            .WithName("ListQueue").WithSummary("The waiting entries in order, with positions and expected waits.");

        queue.MapGet("/{id:long}", async Task<IResult> (long id, WaitlistService service, CancellationToken ct) =>
                await service.GetEntryAsync(id, ct) is { } entry ? TypedResults.Ok(entry) : ApiResults.Problem(Fail.NotFound("That queue entry does not exist.")))
            .WithName("GetQueueEntry").WithSummary("One entry: its position while waiting; once served, the slot and deployment it got.")
            .Produces<QueueEntryView>().ProducesProblem(404);

        queue.MapPost("/", async Task<IResult> (JoinQueueBody body, ClaimsPrincipal user, WaitlistService service, Slots.BoardQueries board, CancellationToken ct) =>
            {
                var slotId = body.SlotId;
                if (slotId is null && !string.IsNullOrEmpty(body.Slot))
                {
                    slotId = (await board.GetBoardAsync(ct)).FirstOrDefault(s => s.Name == body.Slot)?.Id;
                    if (slotId is null)
                    {
                        return ApiResults.Problem(Fail.NotFound($"There is no slot called {body.Slot}."));
                    }
                }

                return ApiResults.From(await service.JoinAsync(user, new JoinQueueRequest(body.App ?? "", body.Branch ?? "", body.Purpose ?? "", slotId, body.HoldFor), ct),
                    entry => TypedResults.Created($"/api/v1/queue/{entry.Id}", entry));
            })
            .WithName("JoinQueue").WithSummary("Wait for a slot: when one frees, it is claimed for you and the branch deployed into it. Answers 201 with the entry (already served when a slot was free).")
            .Produces<QueueEntryView>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        queue.MapDelete("/{id:long}", async (long id, ClaimsPrincipal user, WaitlistService service, CancellationToken ct) =>
                ApiResults.From(await service.LeaveAsync(user, id, ct), entry => TypedResults.Ok(entry)))
            .WithName("LeaveQueue").WithSummary("Leave the queue (your own entry; an admin may remove anyone's).")
            .Produces<QueueEntryView>().ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        return api;
    }
}

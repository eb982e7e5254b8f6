using System.Security.Claims;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;

namespace DeployPortal.Web.Api;

/// <summary>Body of <c>POST /api/v1/slots/{slotId}/claim</c>. Duration as "hh:mm:ss"; the default hold length when absent.</summary>
internal sealed record ClaimSlotBody(string? Purpose, TimeSpan? Duration);

/// <summary>
/// Body of <c>POST /api/v1/slots/{slotId}/extend</c>. HoldId guards against extending a newer hold (the current one when
/// absent); SeenUntil, the end the caller last saw, makes a retried request extend only once.
/// </summary>
internal sealed record ExtendHoldBody(TimeSpan By, long? HoldId = null, DateTime? SeenUntil = null);

/// <summary>Body of <c>POST /api/v1/slots/{slotId}/release</c>. An outcome records "QA done" (QA and Admin may release others' slots with one).</summary>
internal sealed record ReleaseSlotBody(long? HoldId = null, QaOutcome? Outcome = null, string? Note = null);

internal sealed record ReleaseResult(int SlotId, ReleaseReason Reason);

/// <summary>Slots for CI: the same <see cref="HoldActions"/> and <see cref="BoardQueries"/> the board uses, so the same rules apply.</summary>
internal static class SlotsApi
{
    public static RouteGroupBuilder MapSlotsApi(this RouteGroupBuilder api)
    {
        var slots = api.MapGroup("/slots").WithTags("Slots");

        slots.MapGet("/", async (BoardQueries board, CancellationToken ct) => TypedResults.Ok(await board.GetBoardAsync(ct)))
            .WithName("ListSlots").WithSummary("Every slot, with its current hold.");

        slots.MapGet("/{slotId:int}", async Task<IResult> (int slotId, BoardQueries board, CancellationToken ct) =>
                await FindAsync(board, slotId, ct) is { } card ? TypedResults.Ok(card) : ApiResults.Problem(Fail.NotFound("That slot does not exist.")))
            .WithName("GetSlot").Produces<SlotCard>().ProducesProblem(StatusCodes.Status404NotFound);

        slots.MapPost("/{slotId:int}/claim", async (int slotId, ClaimSlotBody body, ClaimsPrincipal user, HoldActions service, CancellationToken ct) =>
                ApiResults.From(await service.ClaimAsync(user, new ClaimRequest(slotId, body.Purpose ?? "", body.Duration), ct),
                    // Already yours: 200, so two pipelines sharing a token can tell which one's claim made the hold (201).
                    hold => hold.AlreadyYours ? TypedResults.Ok(hold) : TypedResults.Created($"/api/v1/slots/{slotId}", hold)))
            .WithName("ClaimSlot").WithSummary("Claim a free slot for a purpose.")
            .Produces<HoldView>(StatusCodes.Status201Created).Produces<HoldView>().ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        slots.MapPost("/{slotId:int}/extend", async Task<IResult> (int slotId, ExtendHoldBody body, ClaimsPrincipal user, HoldActions service, BoardQueries board, CancellationToken ct) =>
            {
                var holdId = body.HoldId ?? (await FindAsync(board, slotId, ct))?.Hold?.Id;
                return holdId is null
                    ? ApiResults.Problem(Fail.NotFound("Nobody holds that slot."))
                    : ApiResults.From(await service.ExtendAsync(user, slotId, holdId.Value, body.By, body.SeenUntil?.ToUniversalTime(), ct), hold => TypedResults.Ok(hold));
            })
            .WithName("ExtendHold").WithSummary("Extend your own hold (bounded by the maximum hold length).")
            .Produces<HoldView>().ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        slots.MapPost("/{slotId:int}/release", async Task<IResult> (int slotId, ReleaseSlotBody body, ClaimsPrincipal user, HoldActions service, BoardQueries board, CancellationToken ct) =>
            {
                var holdId = body.HoldId ?? (await FindAsync(board, slotId, ct))?.Hold?.Id;
                return holdId is null
                    ? ApiResults.Problem(Fail.NotFound("Nobody holds that slot."))
                    : ApiResults.From(await service.ReleaseAsync(user, new ReleaseRequest(slotId, holdId.Value, body.Outcome, body.Note), ct),
                        reason => TypedResults.Ok(new ReleaseResult(slotId, reason)));
            })
            .WithName("ReleaseSlot").WithSummary("Release your slot, or record QA done on anyone's (QA, Admin).")
            .Produces<ReleaseResult>().ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        return api;
    }

    private static async Task<SlotCard?> FindAsync(BoardQueries board, int slotId, CancellationToken ct) =>
        (await board.GetBoardAsync(ct)).FirstOrDefault(s => s.Id == slotId);
}

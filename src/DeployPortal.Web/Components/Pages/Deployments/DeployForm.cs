using DeployPortal.Web.Deployments;
using DeployPortal.Web.Git;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Waitlist;

namespace DeployPortal.Web.Components.Pages.Deployments;

/// <summary>
/// The deploy form's state and rules without the page: which slots it offers (<see cref="SlotDeployRule"/>), which
/// one it starts on, whether the person would claim the slot or join the queue, the branch list and its "did you
/// mean" answer, the preflight summary, and the request it sends. The page loads, renders and submits.
/// </summary>
internal sealed class DeployForm(string actorId, bool canAdminister, TimeSpan defaultHoldFor)
{
    private IReadOnlyList<RemoteBranch> _branches = [];
    private IReadOnlyList<string> _recentBranches = [];

    public string? App { get; private set; }

    public string? Branch { get; set; }

    public int? SlotId { get; set; }

    public string? Purpose { get; set; }

    public TimeSpan HoldFor { get; set; } = defaultHoldFor;

    /// <summary>Join the queue for a slot that is taken, rather than deploy now.</summary>
    public bool QueueMode { get; set; }

    /// <summary>The slot the queue entry waits for; null for the first that frees.</summary>
    public int? QueueSlotId { get; set; }

    /// <summary>The slots as last read; null until the first read.</summary>
    public IReadOnlyList<SlotChoice>? Slots { get; private set; }

    public bool LoadingBranches { get; private set; }

    /// <summary>The elastic pool as last read: with room, a new slot is offered when none is free.</summary>
    public ElasticBudgetView? Elastic { get; private set; }

    /// <summary>The slot list offers a new elastic slot: the pool has room and no slot is free to deploy into.</summary>
    public bool OffersNewSlot => Elastic is { HasRoom: true } && Slots is not null && !Slots.Any(s => Selectable(s) && s.HolderId is null);

    /// <summary>The choice "a new slot, made for you" (it has no name until it is made).</summary>
    public SlotChoice NewSlot => new(ElasticPool.AnySlot, "a new elastic slot", true, null, null, null, []);

    public SlotChoice? SelectedSlot => SlotId == ElasticPool.AnySlot && OffersNewSlot ? NewSlot : Slots?.FirstOrDefault(s => s.Id == SlotId);

    /// <summary>The selected slot is free: deploying claims it, so the form asks what for and for how long.</summary>
    public bool NeedsClaim => SelectedSlot is { HolderId: null };

    public bool AnySelectable => Slots?.Any(Selectable) == true;

    public bool Selectable(SlotChoice slot) => SlotDeployRule.Allows(slot.Enabled, slot.HolderId, actorId, canAdminister);

    /// <summary>
    /// The first read of the slots: starts on the slot a shared link names (if it may be deployed into), else the
    /// person's own, else the first free one; with none to deploy into, offers the queue (for the linked slot, if any).
    /// A linked slot that may not be deployed into is said so (<see cref="LinkedSlotNote"/>), and then no other slot is
    /// picked in its place: deploying into the person's own slot instead would replace what runs there unasked.
    /// </summary>
    public void Start(IReadOnlyList<SlotChoice> slots, string? linkedSlot, ElasticBudgetView? elastic = null)
    {
        Slots = slots;
        Elastic = elastic;
        var linked = string.IsNullOrWhiteSpace(linkedSlot) ? null : slots.FirstOrDefault(s => s.Name == linkedSlot);
        LinkedSlotNote = linked switch
        {
            null when !string.IsNullOrWhiteSpace(linkedSlot) => $"There is no slot called \"{linkedSlot}\": choose one below.",
            { Enabled: false } => $"{linked.Name} is disabled: choose another slot.",
            { HolderId: not null } when !Selectable(linked) => $"{linked.Name} is held by {linked.HolderName} ({linked.Purpose}): choose another slot, or wait in the queue for it.",
            _ => null,
        };
        SlotId = LinkedSlotNote is not null
            ? null
            : linked?.Id
                ?? slots.FirstOrDefault(s => s.HolderId == actorId)?.Id
                ?? slots.FirstOrDefault(s => s.Enabled && s.HolderId is null)?.Id
                ?? (OffersNewSlot ? ElasticPool.AnySlot : null);
        QueueMode = !AnySelectable && !OffersNewSlot;
        QueueSlotId = linked is { Enabled: true } && !Selectable(linked) ? linked.Id : null;
    }

    /// <summary>Why the slot a shared link named was not picked; null when it was, or when the link named none.</summary>
    public string? LinkedSlotNote { get; private set; }

    /// <summary>A newer read of the slots (after a refusal or joining the queue); the choices made stay.</summary>
    public void Refresh(IReadOnlyList<SlotChoice> slots, ElasticBudgetView? elastic = null) => (Slots, Elastic) = (slots, elastic ?? Elastic);

    /// <summary>The queue served the person: the slot is theirs now, so the form deploys into it instead of offering the queue again.</summary>
    public void Served(IReadOnlyList<SlotChoice> slots, string? servedSlotName)
    {
        Slots = slots;
        QueueMode = false;
        SlotId = slots.FirstOrDefault(s => s.Name == servedSlotName)?.Id ?? SlotId;
    }

    /// <summary>Another app: its branches are loaded next, and the branch typed for the last one is dropped.</summary>
    public void ChooseApp(string? app)
    {
        App = app;
        Branch = null;
    }

    public void LoadingBranchesStarted() => LoadingBranches = true;

    /// <summary>The app's branches, and the person's recent ones of it (offered first); the help text under the field.</summary>
    public string BranchesLoaded(IReadOnlyList<RemoteBranch> branches, IReadOnlyList<string> recent)
    {
        (_branches, _recentBranches, LoadingBranches) = (branches, recent, false);
        return recent.Count == 0 ? $"{branches.Count} branches" : $"{branches.Count} branches; yours first";
    }

    /// <summary>The branches could not be listed: the field offers none, and says why.</summary>
    public string BranchesFailed(GitException failure)
    {
        (_branches, _recentBranches, LoadingBranches) = ([], [], false);
        return failure.Message;
    }

    /// <summary>The branch names matching what was typed: the person's recent branches of this app first, then the rest in the repository's order.</summary>
    public IEnumerable<string> SearchBranches(string? text) =>
        _branches.Select(b => b.Name)
            .Where(n => string.IsNullOrWhiteSpace(text) || n.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase))
            .OrderBy(n => IndexOf(_recentBranches, n) is var i and >= 0 ? i : int.MaxValue);

    /// <summary>The typed branch is not one of the app's: says so, with the likely one.</summary>
    public string? BranchError => Branch is { Length: > 0 } branch && App is { } app && !LoadingBranches && _branches.Count > 0
        && !_branches.Any(b => b.Name == branch) ? BranchNames.NotFound(app, branch, _branches.Select(b => b.Name)) : null;

    /// <summary>The branch the typed name most likely meant, offered as a button under the field; null when the name is a branch or nothing is close.</summary>
    public string? BranchSuggestion => BranchError is not null ? BranchNames.Closest(Branch!, _branches.Select(b => b.Name)) : null;

    /// <summary>The chosen branch once it is known to be one of the app's: the registry is asked about its image.</summary>
    public string? CheckableBranch => !LoadingBranches && BranchError is null && _branches.Any(b => b.Name == Branch) ? Branch : null;

    /// <summary>What deploying would do (claim for how long, replace what runs), once app, branch and slot are chosen.</summary>
    public string? Summary => !QueueMode && BranchError is null && App is { } app && Branch is { } branch && SelectedSlot is { } slot
        ? Preflight.Describe(app, branch, slot, actorId, HoldFor, Purpose)
        : null;

    /// <summary>A slot as the slot list shows it: its name, who holds it and what runs there.</summary>
    public string Describe(SlotChoice slot)
    {
        var state = slot switch
        {
            { Enabled: false } => "disabled",
            { HolderId: null } => "free",
            _ when slot.HolderId == actorId => $"yours ({slot.Purpose})",
            _ => $"held by {slot.HolderName} ({slot.Purpose})",
        };
        var running = slot.Running.Count == 0 ? "" : " · runs " + string.Join(", ", slot.Running);
        return $"{slot.Name} — {state}{running}";
    }

    /// <summary>The registry said the branch's image is not built yet: the form offers to deploy as soon as it is.</summary>
    public bool WhenBuilt { get; set; }

    public DeployRequest ToDeployRequest() =>
        new(App ?? "", Branch ?? "", SlotId ?? 0, NeedsClaim ? Purpose : null, NeedsClaim ? HoldFor : null, WhenBuilt);

    public JoinQueueRequest ToJoinRequest() => new(App ?? "", Branch ?? "", Purpose ?? "", QueueSlotId, HoldFor);

    private static int IndexOf(IReadOnlyList<string> list, string item)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == item)
            {
                return i;
            }
        }

        return -1;
    }
}

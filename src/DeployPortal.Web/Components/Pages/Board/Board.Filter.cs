using Microsoft.AspNetCore.Components;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// The board's filters, kept in the address (<see cref="BoardFilter"/>): the show links, the app and holder choices
/// and the quick search, whose field follows what is typed rather than the address that lags behind it.
/// </summary>
public sealed partial class Board
{
    // The search field: the address lags behind fast typing (each keystroke's navigation comes back later), so the
    // field's value is rendered only when the board opens or the address's query changes from elsewhere (Clear, a
    // link), with a new key so the browser gets a fresh field; the queries sent but not yet echoed back tell the two
    // apart, and a render whose address did not change (a new time zone, say) changes nothing.
    private string? _searchShown;
    private int _searchKey;
    private readonly List<string?> _searchSent = [];
    private string? _addressQuery; // the address's query when last looked at

    [SupplyParameterFromQuery(Name = "show")] private string? Show { get; set; }
    [SupplyParameterFromQuery(Name = "q")] private string? Query { get; set; }
    [SupplyParameterFromQuery(Name = "app")] private string? App { get; set; }
    [SupplyParameterFromQuery(Name = "holder")] private string? Holder { get; set; }

    private BoardFilter AddressFilter => BoardFilter.From(Show, Query, App, Holder);

    private void FollowAddress()
    {
        var filter = AddressFilter;
        if (filter.Query == _addressQuery)
        {
            filter = filter with { Query = _filter.Query }; // a render with the address unchanged: what is typed stays
        }
        else if (_searchSent.IndexOf(_addressQuery = filter.Query) is var echo and >= 0)
        {
            _searchSent.RemoveRange(0, echo + 1); // our own keystroke coming back: what is typed since stays
            filter = filter with { Query = _filter.Query };
        }
        else if (filter.Query != _filter.Query)
        {
            _searchSent.Clear(); // changed from elsewhere: the field shows the address's query
            _searchShown = filter.Query;
            _searchKey++;
        }

        SetFilter(filter);
    }

    private static string ClearLink => "/";

    private string FilterWords => string.Join(" and ", new[]
    {
        _filter.Show is { } show ? $"“{BoardFilterMarkup.Label(show)}”" : null,
        _filter.Query is { } q ? $"“{q}”" : null,
        _filter.App is { } app ? $"app “{app}”" : null,
        _filter.Holder is { } holder ? $"holder “{HolderName(holder)}”" : null,
    }.OfType<string>());

    private string HolderName(string id) =>
        (_all is null ? null : BoardFilter.ChoicesOn(_all).Holders.FirstOrDefault(h => h.Id == id).Name) ?? id;

    // A keystroke filters at once and replaces the address rather than adding to the history, so Back leaves the board.
    private void Search(ChangeEventArgs e)
    {
        var query = BoardFilter.From(null, e.Value as string).Query;
        _searchSent.Add(query);
        SetFilter(_filter with { Query = query });
        Nav.NavigateTo(_filter.Href(), replace: true);
    }

    private void ChooseApp(ChangeEventArgs e) => Nav.NavigateTo((_filter with { App = BoardFilter.From(null, null, e.Value as string).App }).Href());

    private void ChooseHolder(ChangeEventArgs e) => Nav.NavigateTo((_filter with { Holder = BoardFilter.From(null, null, null, e.Value as string).Holder }).Href());

    private void SetFilter(BoardFilter filter)
    {
        if (filter != _filter)
        {
            _filter = filter;
            _slots = _all is null ? null : _filter.Apply(_all, _rights.ActorId);
        }
    }
}

using System.Security.Claims;
using DeployPortal.Web.Auth;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using MudBlazor;

namespace DeployPortal.Web.Components.Pages.Profile;

public sealed partial class Profile
{
    private ClaimsPrincipal _user = new();
    private IReadOnlyList<AccessTokenView>? _tokens;
    private CreatedAccessToken? _created;
    private string _name = "";
    private int _days = 30;
    private int[] _lifetimes = [];
    private string? _error;
    private bool _busy;

    [Inject] private AccessTokenService Tokens { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private IOptionsMonitor<AccessTokenOptions> Options { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthState).User;
        var maxDays = (int)Options.CurrentValue.MaxLifetime.TotalDays;
        _lifetimes = [.. new[] { 7, 30, 90, 365 }.Where(d => d <= maxDays).DefaultIfEmpty(Math.Max(1, maxDays))];
        _days = _lifetimes.Contains(30) ? 30 : _lifetimes[0];
        _tokens = await Tokens.ListOwnAsync(_user);
    }

    private string State(AccessTokenView token) =>
        token.RevokedAt is not null ? "Revoked" : token.ExpiresAt <= Clock.GetUtcNow().UtcDateTime ? "Expired" : "Active";

    private async Task CreateAsync()
    {
        _busy = true;
        try
        {
            var result = await Tokens.CreateAsync(_user, new CreateAccessTokenRequest(_name, TimeSpan.FromDays(_days)));
            if (result.Succeeded)
            {
                _created = result.Value;
                _name = "";
                _error = null;
            }
            else
            {
                _error = result.Failure!.Message;
            }

            _tokens = await Tokens.ListOwnAsync(_user);
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task RevokeAsync(AccessTokenView token)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Revoke “{token.Name}”?",
            $"Anything using {token.Prefix}… stops working at once. This cannot be undone.", yesText: "Revoke", cancelText: "Keep it");
        if (confirmed != true)
        {
            return;
        }

        var result = await Tokens.RevokeAsync(_user, token.Id);
        if (result.Succeeded)
        {
            Snackbar.Add($"“{token.Name}” revoked.", Severity.Success);
            if (_created?.Token.Id == token.Id)
            {
                _created = null;
            }
        }
        else
        {
            Snackbar.Add(result.Failure!.Message, Severity.Warning);
        }

        _tokens = await Tokens.ListOwnAsync(_user);
    }
}

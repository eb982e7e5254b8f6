namespace DeployPortal.Web.Logs;

/// <summary>
/// Whether a log viewer should scroll to the newest line at its next render, and whether even if the reader scrolled
/// up (forced). Asked once: <see cref="Take"/> resets it. Not thread-safe: used on the feed's thread only.
/// </summary>
internal sealed class LogScroll
{
    private bool _toEnd;
    private bool _force;

    /// <summary>Scroll to the end, even if the reader scrolled up.</summary>
    public void Force() => _toEnd = _force = true;

    /// <summary>Sets whether to scroll to the end (unforced), replacing what was asked before.</summary>
    public void Set(bool toEnd) => _toEnd = toEnd;

    /// <summary>Asks to scroll to the end too when <paramref name="toEnd"/>; keeps what was asked before.</summary>
    public void Add(bool toEnd) => _toEnd |= toEnd;

    /// <summary>Whether to scroll to the newest line (forced: even if the reader scrolled up); asks only once.</summary>
    public bool Take(out bool force)
    {
        var scroll = _toEnd;
        force = scroll && _force;
        if (scroll)
        {
            _toEnd = _force = false;
        }

        return scroll;
    }
}

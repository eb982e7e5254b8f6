namespace DeployPortal.KubeEmulator.Controllers;

/// <summary>How a container of a given image behaves (see README "Failure modes by image").</summary>
public enum ImageBehaviour
{
    /// <summary>Starts, becomes Ready after <see cref="EmulatorOptions.ReadyDelay"/>, logs forever.</summary>
    Healthy,
    /// <summary>Cannot be pulled: waiting reason ErrImagePull, then ImagePullBackOff, repeating with back-off.</summary>
    PullError,
    /// <summary>Runs for <see cref="EmulatorOptions.CrashAfter"/>, exits 1, then CrashLoopBackOff with a rising restartCount.</summary>
    Crash,
    /// <summary>Runs but never passes readiness.</summary>
    NeverReady,
}

/// <summary>The image naming convention that selects a failure mode.</summary>
public static class ImageBehaviours
{
    /// <summary>
    /// Tag <c>pull-error</c>, or a repository path segment <c>does-not-exist</c> → <see cref="ImageBehaviour.PullError"/>;
    /// tag <c>crash</c> or <c>crashloop</c> (or starting with <c>crash-</c>) → <see cref="ImageBehaviour.Crash"/>;
    /// tag <c>never-ready</c> (or starting with <c>never-ready-</c>) → <see cref="ImageBehaviour.NeverReady"/>;
    /// anything else → <see cref="ImageBehaviour.Healthy"/>.
    /// </summary>
    public static ImageBehaviour Classify(string? image)
    {
        if (string.IsNullOrEmpty(image))
        {
            return ImageBehaviour.PullError;
        }

        var at = image.IndexOf('@');
        if (at >= 0)
        {
            image = image[..at];
        }

        var lastSlash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        var tag = colon > lastSlash ? image[(colon + 1)..].ToLowerInvariant() : "latest";
        var repo = colon > lastSlash ? image[..colon] : image;
        if (tag == "pull-error" || repo.Split('/').Contains("does-not-exist"))
        {
            return ImageBehaviour.PullError;
        }

        if (tag is "crash" or "crashloop" || tag.StartsWith("crash-", StringComparison.Ordinal))
        {
            return ImageBehaviour.Crash;
        }

        if (tag == "never-ready" || tag.StartsWith("never-ready-", StringComparison.Ordinal))
        {
            return ImageBehaviour.NeverReady;
        }

        return ImageBehaviour.Healthy;
    }
}

namespace Immune;

/// <summary>Conveniences over <see cref="IImmuneService"/> whose window is <see cref="DefaultWindow"/>.</summary>
public static class ImmuneServiceExtensions
{
    /// <summary>The window the conveniences use: one hour.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(1);

    /// <summary>Gets the retained events of the last hour, oldest first.</summary>
    /// <param name="service">The service. Must not be null.</param>
    /// <returns>The events recorded within <see cref="DefaultWindow"/>.</returns>
    public static IReadOnlyList<ImmuneEvent> GetRecentEvents(this IImmuneService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        return service.GetRecentEvents(DefaultWindow);
    }

    /// <summary>Summarizes the events of the last hour.</summary>
    /// <param name="service">The service. Must not be null.</param>
    /// <returns>The summary over <see cref="DefaultWindow"/>.</returns>
    public static ImmuneHealthSummary GetHealthSummary(this IImmuneService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        return service.GetHealthSummary(DefaultWindow);
    }
}

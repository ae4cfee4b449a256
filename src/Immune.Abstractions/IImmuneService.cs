namespace Immune;

/// <summary>Records immune events, keeps the recent ones and publishes each as a versioned envelope.</summary>
/// <remarks>
/// This is what application code depends on and substitutes in its tests. Every member may be called from any number of
/// threads. <see cref="ImmuneServiceExtensions"/> adds conveniences whose window defaults to one hour.
/// </remarks>
public interface IImmuneService
{
    /// <summary>Validates, records and publishes an immune event.</summary>
    /// <param name="newEvent">The event to record. Must not be null.</param>
    /// <param name="cancellationToken">Observed before the event is recorded; once recorded, the event stays recorded.</param>
    /// <returns>The id of the recorded event.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="newEvent"/> or its message is null.</exception>
    /// <exception cref="ArgumentException">A field is invalid; the message names it. Nothing was recorded or published.</exception>
    /// <exception cref="ObjectDisposedException">The service has been disposed.</exception>
    ValueTask<long> PublishAsync(NewImmuneEvent newEvent, CancellationToken cancellationToken = default);

    /// <summary>Gets the retained events whose <see cref="ImmuneEvent.CreatedAt"/> is at or after now minus <paramref name="window"/>, oldest first.</summary>
    /// <param name="window">How far back to look. Must not be negative.</param>
    /// <returns>A snapshot; later events and changes do not alter it.</returns>
    IReadOnlyList<ImmuneEvent> GetRecentEvents(TimeSpan window);

    /// <summary>Summarizes the retained events whose <see cref="ImmuneEvent.CreatedAt"/> is at or after now minus <paramref name="window"/>.</summary>
    /// <param name="window">How far back to look. Must not be negative.</param>
    /// <returns>The summary, counting each event at its current severity.</returns>
    ImmuneHealthSummary GetHealthSummary(TimeSpan window);

    /// <summary>Re-grades a retained event (escalation or de-escalation) and publishes <c>immune.severity_changed</c> when the severity really changes.</summary>
    /// <param name="eventId">The id of the event to re-grade.</param>
    /// <param name="severity">The new severity. Must be a defined <see cref="ImmuneSeverity"/>.</param>
    /// <param name="cancellationToken">Observed before anything changes.</param>
    /// <returns><see langword="false"/> when no event with that id is retained; otherwise <see langword="true"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="severity"/> is not defined.</exception>
    /// <exception cref="ObjectDisposedException">The service has been disposed.</exception>
    ValueTask<bool> ChangeSeverityAsync(long eventId, ImmuneSeverity severity, CancellationToken cancellationToken = default);
}

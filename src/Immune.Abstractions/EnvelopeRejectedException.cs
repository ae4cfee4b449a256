namespace Immune;

/// <summary>
/// Thrown by an <see cref="IEventStream"/>, from <see cref="IEventStream.PublishAsync"/> or
/// <see cref="IBatchEventStream.PublishBatchAsync"/>, for envelopes the broker will never accept: too large for it, or
/// refused by its rules. The service fails exactly those at once, with no further attempt (reason <c>rejected</c>), and
/// sends the rest of the call again; it is not a failure of the stream. Every other exception means "may pass": the
/// envelopes are retried until their delivery timeout.
/// </summary>
/// <remarks>
/// Throw it for what no retry can change. A transport that cannot tell which envelopes of a batch were refused throws
/// it without ids: then every envelope of the call fails. Ids that the call did not hold are ignored, and a rejection
/// that names only such ids counts as a plain failure of the call.
/// </remarks>
#pragma warning disable CA1032 // Implement standard exception constructors: the two below are the contract
public sealed class EnvelopeRejectedException : Exception
#pragma warning restore CA1032
{
    private const string DefaultMessage = "The broker will never accept these envelopes.";

    /// <summary>Creates a rejection of every envelope of the call.</summary>
    /// <param name="message">Why the broker refuses them; null for a general message.</param>
#pragma warning disable RS0027 // The optional message keeps the contract's two signatures (DESIGN.md, "Rejected envelopes").
    public EnvelopeRejectedException(string? message = null)
#pragma warning restore RS0027
        : base(message ?? DefaultMessage)
    {
        EnvelopeIds = [];
    }

    /// <summary>Creates a rejection of the envelopes with the given ids; the rest of the call may pass.</summary>
    /// <param name="message">Why the broker refuses them; null for a general message.</param>
    /// <param name="envelopeIds">The <see cref="EventEnvelope.Id"/> of each envelope refused. Must not be null, nor hold null. Empty means every envelope of the call.</param>
    /// <exception cref="ArgumentNullException"><paramref name="envelopeIds"/> is null, or holds a null id.</exception>
    public EnvelopeRejectedException(string? message, IEnumerable<string> envelopeIds)
        : base(message ?? DefaultMessage)
    {
        ArgumentNullException.ThrowIfNull(envelopeIds);
        string[] ids = [.. envelopeIds];
        foreach (string id in ids)
        {
            ArgumentNullException.ThrowIfNull(id, nameof(envelopeIds));
        }

        EnvelopeIds = ids;
    }

    /// <summary>Gets the ids of the envelopes refused; empty when every envelope of the call was.</summary>
    public IReadOnlyList<string> EnvelopeIds { get; }
}

using Immune.Delivery;

namespace Immune.Spool;

/// <summary>
/// The spool as the delivery pipeline sees it: write an envelope, wait until it is on the disk, read the backlog back,
/// and say what may be forgotten. Everything else (files, fsyncs, recovery, the sync timer) stays behind it.
/// </summary>
internal interface IEnvelopeSpool
{
    /// <summary>Gets whether a publish waits until its envelopes are on the disk itself (<see cref="ImmuneOptions.SpoolSyncInterval"/> zero).</summary>
    bool SyncsEveryWrite { get; }

    /// <summary>Gets whether a disk fault made the spool give up; envelopes then stay in memory only.</summary>
    bool Unavailable { get; }

    /// <summary>
    /// Writes a built envelope: <see cref="SpoolWrite.Full"/> means shed it, <see cref="SpoolWrite.Unavailable"/> keep it
    /// in memory only (a disk fault never fails a publish). Everything up to <paramref name="settledThrough"/> is
    /// settled, and its space free. Called in sequence order, by one write turn at a time.
    /// </summary>
    SpoolWrite Write(in PendingEnvelope item, long settledThrough);

    /// <summary>
    /// Writes a CRITICAL publish's two built envelopes as <see cref="Write"/> does, admitted or refused together: both are
    /// <see cref="SpoolWrite.Full"/> unless there is room for both.
    /// </summary>
    (SpoolWrite Lead, SpoolWrite Follower) WritePair(in PendingEnvelope lead, in PendingEnvelope follower, long settledThrough);

    /// <summary>
    /// Completes once every record through <paramref name="sequence"/> is on the disk (or the spool gave up); concurrent
    /// callers share one fsync, and those waiting for it hold no thread.
    /// </summary>
    ValueTask WaitDurableAsync(long sequence);

    /// <summary>Reads back up to <paramref name="max"/> envelopes from <paramref name="fromSequence"/> on, in order; false when the spool cannot.</summary>
    bool Read(long fromSequence, int max, List<(long Sequence, EventEnvelope Envelope)> into);

    /// <summary>Hands every envelope a previous owner left unsettled to <paramref name="replay"/>, oldest first, streamed from its files; once, at start.</summary>
    void Recover(Action<EventEnvelope> replay);

    /// <summary>Stops forgetting past <paramref name="settledThrough"/>: disposal gave up on the rest, which stays for the next service.</summary>
    void Freeze(long settledThrough);
}

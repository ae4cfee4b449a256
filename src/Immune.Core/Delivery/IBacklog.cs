namespace Immune.Delivery;

/// <summary>
/// The one seam in front of the delivery loop: where envelopes wait between their intake and the loop's batch. An
/// append runs under the pipeline's lock and does no I/O (the envelope gets its place in order); a commit runs after
/// the lock (with a spool: the write, and the placing of what was written); the loop takes the next batch in sequence
/// order under the lock, or, when the next envelopes wait on disk, reads them outside it. What the loop took is settled
/// by the loop: everything below the batch and below <see cref="OldestSequence"/> is settled or was shed. Two
/// implementations: <see cref="MemoryBacklog"/> and <see cref="SpoolBacklog"/>; the loop, the retries and the
/// accounting never know which one they have.
/// </summary>
internal interface IBacklog
{
    /// <summary>Gets how many envelopes wait, wherever they wait. Under the pipeline's lock.</summary>
    long Count { get; }

    /// <summary>Gets how many envelopes wait in memory (the queue-length gauge). Under the pipeline's lock.</summary>
    int InMemory { get; }

    /// <summary>Gets the oldest sequence waiting; <see cref="long.MaxValue"/> when none. Under the pipeline's lock.</summary>
    long OldestSequence { get; }

    /// <summary>Gets whether envelopes were appended that no commit has placed yet. Under the pipeline's lock.</summary>
    bool Uncommitted { get; }

    /// <summary>Gets when the oldest waiting envelope was queued (a timestamp). Under the pipeline's lock.</summary>
    bool TryPeekOldestQueuedAt(out long queuedAt);

    /// <summary>Appends one envelope; what it sheds to make room is counted in the ledger and the intake. Under the pipeline's lock, no I/O.</summary>
    void Append(in PendingEnvelope item, ref DeliveryIntake intake);

    /// <summary>Appends a CRITICAL publish's two envelopes, admitted or shed together. Under the pipeline's lock, no I/O.</summary>
    void Append(in PendingEnvelope lead, in PendingEnvelope follower, ref DeliveryIntake intake);

    /// <summary>Commits what was appended through <paramref name="sequence"/> (at least); the caller holds no lock.</summary>
    void Commit(long sequence);

    /// <summary>
    /// Takes the next envelopes in sequence order into <paramref name="batch"/> and returns how many; -1 when the next
    /// ones wait on disk (then the loop calls <see cref="Read"/> after the lock). Under the pipeline's lock.
    /// </summary>
    int Take(BatchInHand batch);

    /// <summary>
    /// Reads the next envelopes back from disk into <paramref name="batch"/>, the disk read outside the pipeline's lock;
    /// returns how many were taken (zero when what waited there was lost, counted), or -1 when disposal gave up meanwhile.
    /// The caller holds no lock.
    /// </summary>
    int Read(BatchInHand batch);

    /// <summary>Gives up on everything waiting (disposal); returns how many, and the oldest of them. Under the pipeline's lock.</summary>
    long Abandon(out PendingEnvelope first);
}

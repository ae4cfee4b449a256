using Immune.Delivery;

namespace Immune.Spool;

/// <summary>
/// Writes each envelope to the spool as it is queued: built on the publisher's path (the spool needs its id and bytes
/// before <c>PublishAsync</c> returns), and handed to the delivery loop already built. Runs under the pipeline's lock.
/// </summary>
internal sealed class SpoolWriter(DurableSpool spool, EnvelopeFactory envelopes, DeliveryReporter reporter, string directory)
{
    private int _toldUnavailable;

    public DurableSpool Spool => spool;

    /// <summary>
    /// Spools <paramref name="item"/> (now carrying its envelope); false when the spool is full for it: shed it.
    /// Everything up to <paramref name="settledThrough"/> is settled, and its space free.
    /// </summary>
    public bool Write(ref PendingEnvelope item, long settledThrough)
    {
        item = item with { Built = envelopes.Create(item) };
        switch (spool.Append(item.Sequence, item.Built!, item.IsCritical, settledThrough))
        {
            case SpoolWrite.Full:
                return false;
            case SpoolWrite.Unavailable:
                TellUnavailable();
                return true; // kept in memory: a disk fault never fails a publish
            default:
                return true;
        }
    }

    /// <summary>Logs once that the spool gave up (a rare event: the one log written under the pipeline's lock).</summary>
    public void TellUnavailable()
    {
        if (Interlocked.Exchange(ref _toldUnavailable, 1) == 0)
        {
            reporter.SpoolUnavailable(directory);
        }
    }
}

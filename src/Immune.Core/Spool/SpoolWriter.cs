using Immune.Delivery;

namespace Immune.Spool;

/// <summary>
/// Writes each envelope to the spool: built on the publisher's path (the spool needs its id and bytes before
/// <c>PublishAsync</c> returns), and handed to the delivery loop already built. Runs in a write turn
/// (<see cref="SpoolHandOff"/>), under no lock of the service or the pipeline.
/// </summary>
internal sealed class SpoolWriter(DurableSpool spool, EnvelopeFactory envelopes, DeliveryReporter reporter, string directory)
{
    private int _toldUnavailable;

    public DurableSpool Spool => spool;

    /// <summary>
    /// Spools <paramref name="item"/> (now carrying its envelope): <see cref="SpoolWrite.Full"/> means shed it,
    /// <see cref="SpoolWrite.Unavailable"/> keep it in memory only (a disk fault never fails a publish).
    /// Everything up to <paramref name="settledThrough"/> is settled, and its space free.
    /// </summary>
    public SpoolWrite Write(ref PendingEnvelope item, long settledThrough)
    {
        item = item with { Built = envelopes.Create(item) };
        SpoolWrite written = spool.Append(item.Sequence, item.Built!, item.IsCritical, settledThrough);
        if (written == SpoolWrite.Unavailable)
        {
            TellUnavailable();
        }

        return written;
    }

    /// <summary>Logs once that the spool gave up.</summary>
    public void TellUnavailable()
    {
        if (Interlocked.Exchange(ref _toldUnavailable, 1) == 0)
        {
            reporter.SpoolUnavailable(directory);
        }
    }
}

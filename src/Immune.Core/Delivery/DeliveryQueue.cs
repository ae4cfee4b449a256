using System.Diagnostics.CodeAnalysis;

namespace Immune.Delivery;

/// <summary>
/// The bounded delivery queue: first in, first out by sequence, so the stream sees record order. CRITICAL and other
/// envelopes wait in two FIFO lanes only to decide what is shed: when the queue is full the oldest non-CRITICAL envelope
/// goes first, and a CRITICAL one only when nothing else is left. Not thread-safe: the pipeline guards it with its lock.
/// </summary>
/// <remarks>
/// <see cref="System.Threading.Channels"/> offers only drop-oldest/drop-newest over one lane, which cannot express
/// "shed INFO and WARNING before any CRITICAL" with one shared capacity; two lanes of structs under the pipeline's lock
/// can, with no allocation per envelope.
/// </remarks>
internal sealed class DeliveryQueue(int capacity)
{
    private readonly Queue<PendingEnvelope> _critical = new();
    private readonly Queue<PendingEnvelope> _other = new();

    public int Count => _critical.Count + _other.Count;

    /// <summary>Gets the smallest sequence waiting, or <see langword="null"/> when empty.</summary>
    public long? OldestSequence => (_critical.TryPeek(out var c), _other.TryPeek(out var o)) switch
    {
        (true, true) => Math.Min(c.Sequence, o.Sequence),
        (true, false) => c.Sequence,
        (false, true) => o.Sequence,
        _ => null,
    };

    /// <summary>Queues an envelope; when full, sheds one (possibly <paramref name="item"/> itself) and returns it.</summary>
    /// <returns><see langword="true"/> when an envelope was shed.</returns>
    public bool Enqueue(in PendingEnvelope item, out PendingEnvelope shed)
    {
        shed = default;
        bool full = Count >= capacity;
        if (full)
        {
            if (_other.Count > 0)
            {
                shed = _other.Dequeue();
            }
            else if (!item.IsCritical)
            {
                shed = item; // only CRITICAL envelopes wait: they outrank the newcomer
                return true;
            }
            else
            {
                shed = _critical.Dequeue();
            }
        }

        (item.IsCritical ? _critical : _other).Enqueue(item);
        return full;
    }

    public bool TryDequeue([MaybeNullWhen(false)] out PendingEnvelope item)
    {
        if (!TryPeek(out item))
        {
            return false;
        }

        (item.IsCritical ? _critical : _other).Dequeue();
        return true;
    }

    /// <summary>Gets the envelope <see cref="TryDequeue"/> would take next: the smallest sequence waiting.</summary>
    public bool TryPeek([MaybeNullWhen(false)] out PendingEnvelope item)
    {
        bool hasCritical = _critical.TryPeek(out var c);
        bool hasOther = _other.TryPeek(out var o);
        if (hasCritical && (!hasOther || c.Sequence < o.Sequence))
        {
            item = c;
            return true;
        }

        if (hasOther)
        {
            item = o;
            return true;
        }

        item = default;
        return false;
    }
}

namespace Immune;

/// <summary>
/// The <see cref="IImmunePagerLedger"/> of a single consumer process, kept in memory: enough when one process pages, and
/// the ready test double. A group of consumers uses its broker's ledger (Immune.Redis, Immune.Nats), which every member
/// shares and which outlives a restart.
/// </summary>
/// <remarks>It remembers the last 100,000 keys; an older key's next action is sent as if it were its first.</remarks>
public sealed class InMemoryPagerLedger : IImmunePagerLedger
{
    private const int Capacity = 100_000;
    private readonly Dictionary<string, (long At, SemaphoreSlim Turn)> _keys = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Gate _gate = new();

    /// <inheritdoc />
    public async Task<bool> SendOnceAsync(string dedupKey, string action, DateTimeOffset at, string envelopeId, Func<Task> send, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dedupKey);
        ArgumentNullException.ThrowIfNull(send);
        SemaphoreSlim turn;
        lock (_gate)
        {
            if (!_keys.TryGetValue(dedupKey, out var entry))
            {
                entry = (long.MinValue, new SemaphoreSlim(1, 1));
                _keys.Add(dedupKey, entry);
                _order.Enqueue(dedupKey);
                if (_order.Count > Capacity)
                {
                    _keys.Remove(_order.Dequeue()); // a call under way on it finishes on its own turn, and is forgotten
                }
            }

            turn = entry.Turn;
        }

        await turn.WaitAsync(cancellationToken).ConfigureAwait(false); // the calls of one key never overlap
        try
        {
            long ms = at.ToUnixTimeMilliseconds();
            lock (_gate)
            {
                if (_keys.TryGetValue(dedupKey, out var last) && last.At >= ms)
                {
                    return false;
                }
            }

            await send().ConfigureAwait(false);
            lock (_gate)
            {
                if (_keys.TryGetValue(dedupKey, out var current) && ReferenceEquals(current.Turn, turn))
                {
                    _keys[dedupKey] = (ms, turn);
                }
            }

            return true;
        }
        finally
        {
            turn.Release();
        }
    }
}

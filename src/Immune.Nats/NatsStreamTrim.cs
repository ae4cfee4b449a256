using Immune.Internal;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Immune.Nats;

/// <summary>
/// Trims a JetStream stream without ever dropping what a durable consumer (a group) still needs: it purges below the
/// lowest acknowledgement floor of the durable consumers, and never below <see cref="NatsJetStreamOptions.MinRetention"/>
/// ago; a stream without durable consumers keeps its newest <see cref="NatsJetStreamOptions.UngroupedMaxMessages"/>. So
/// a full stream (<c>discard new</c>) gets room as groups read on, and the producers' held envelopes go in. It never
/// purges what the fleet feeds' open incidents need (<see cref="NatsRetentionFloors"/>), however old. One trim at
/// a time, in the background, at most once per <see cref="NatsJetStreamOptions.TrimInterval"/>; a trim that fails is
/// tried again at the next interval.
/// </summary>
internal sealed class NatsStreamTrim(NatsJSContext js, NatsJetStreamOptions options, TimeProvider timeProvider)
{
    private readonly NatsRetentionFloors _floors = new(js, options);

    private readonly DueWork _due = new(options.TrimInterval, timeProvider);

    /// <summary>Starts a trim when one is due and none is running; never waits for it.</summary>
    public void IfDue() => _due.IfDue(this, static trim => trim.RunAsync());

    /// <summary>Trims every shard's stream now; a shard that fails does not keep the others from their trim.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        List<Exception>? failures = null;
        for (int shard = 0; shard < options.Shards; shard++)
        {
            try
            {
                await TrimAsync(shard, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                (failures ??= []).Add(exception);
            }
        }

        if (failures is [var only])
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(only);
        }

        if (failures is not null)
        {
            throw new AggregateException(failures);
        }
    }

    private async Task TrimAsync(int shard, CancellationToken cancellationToken)
    {
        INatsJSStream stream = await js.GetStreamAsync(options.StreamNameOf(shard), cancellationToken: cancellationToken).ConfigureAwait(false);
        ulong first = stream.Info.State.FirstSeq, last = stream.Info.State.LastSeq;
        if (stream.Info.State.Messages == 0)
        {
            return;
        }

        ulong? needed = null;
        await foreach (INatsJSConsumer consumer in stream.ListConsumersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (string.IsNullOrEmpty(consumer.Info.Config.DurableName))
            {
                continue; // an ordered (fleet) consumer: it reads what is there, and counts what it finds gone
            }

            ulong floor = consumer.Info.AckFloor.StreamSeq + 1;
            needed = needed is { } n ? Math.Min(n, floor) : floor;
        }

        // What the fleet feeds' open incidents need stays, whatever was acknowledged or is old.
        ulong openFloor = await _floors.LowestAsync(shard, cancellationToken).ConfigureAwait(false) ?? ulong.MaxValue;
        ulong keepFrom = needed is null
            ? (last + 1 > (ulong)options.UngroupedMaxMessages ? last + 1 - (ulong)options.UngroupedMaxMessages : first) // the newest UngroupedMaxMessages
            : Math.Min(needed.Value, await FirstSinceAsync(stream, first, last, timeProvider.GetUtcNow() - options.MinRetention, cancellationToken).ConfigureAwait(false));
        keepFrom = Math.Min(keepFrom, openFloor);
        if (keepFrom > first)
        {
            await stream.PurgeAsync(new StreamPurgeRequest { Seq = keepFrom }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The first sequence of a message stored at or after <paramref name="since"/> (a binary search on the stored times); past the last when none.</summary>
    private static async Task<ulong> FirstSinceAsync(INatsJSStream stream, ulong first, ulong last, DateTimeOffset since, CancellationToken cancellationToken)
    {
        ulong low = first, high = last + 1;
        while (low < high)
        {
            ulong middle = low + ((high - low) / 2);
            DateTimeOffset? stored = await StoredAtAsync(stream, middle, cancellationToken).ConfigureAwait(false);
            if (stored is null || stored.Value >= since)
            {
                high = middle; // a missing message counts as recent: keep rather than drop
            }
            else
            {
                low = middle + 1;
            }
        }

        return low;
    }

    private static async Task<DateTimeOffset?> StoredAtAsync(INatsJSStream stream, ulong sequence, CancellationToken cancellationToken)
    {
        try
        {
            return (await stream.GetAsync(new StreamMsgGetRequest { Seq = sequence }, cancellationToken).ConfigureAwait(false)).Message.Time;
        }
        catch (NatsJSApiException)
        {
            return null;
        }
    }
}

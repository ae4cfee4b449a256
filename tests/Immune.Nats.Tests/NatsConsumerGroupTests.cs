using Immune.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Immune.Nats.Tests;

/// <summary>
/// <see cref="NatsConsumerGroup"/> with <see cref="ImmunePaging"/> on a real nats-server: what a dead consumer held goes
/// to another and is paged once, copies the server cannot recognise are stopped by the key-value ledger, the actions reach
/// the pager in time order, garbage is dead-lettered, and a pager outage ends neither the loop nor paging.
/// </summary>
public sealed class NatsConsumerGroupTests : NatsTest
{
    private readonly RecordingPager _pager = new();

    private NatsConsumerGroup Consumer(NatsJetStreamOptions options, RecordingPager? pager = null)
        => new(Connection, new ImmunePaging(pager ?? _pager, new NatsPagerLedger(Connection, options)), options, NullLogger<NatsConsumerGroup>.Instance);

    private static async Task DrainAsync(NatsConsumerGroup consumer)
    {
        while (await consumer.ReadOnceAsync() > 0)
        {
        }
    }

    [Fact]
    public async Task AConsumerDiesHoldingUnacknowledgedMessages_TheyGoToTheOther_AndArePagedOnce()
    {
        var ids = new List<long>();
        string instance = await ProduceAsync("checkout", async service =>
        {
            for (int i = 0; i < 20; i++)
            {
                ids.Add(await service.PublishAsync(i % 10 == 3 ? Critical($"event {i}") : Info($"event {i}")));
            }
        });
        NatsJetStreamOptions options = Options(o => { o.ReclaimAfter = TimeSpan.FromSeconds(1); o.BatchSize = 4; });
        NatsConsumerGroup survivor = Consumer(options);
        await survivor.EnsureConsumerAsync();
        INatsJSConsumer group = await new NatsJSContext(Connection).GetConsumerAsync(StreamName, options.Group);
        int held = 0;
        await foreach (NatsJSMsg<byte[]> _ in group.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = 10 }, NatsRawSerializer<byte[]>.Default))
        {
            held++; // taken by a consumer that dies without acknowledging them
        }

        held.ShouldBe(10);
        using var guard = new CancellationTokenSource(HangGuard);
        long handled = 0;
        while (handled < 22)
        {
            handled += await survivor.ReadOnceAsync(guard.Token); // the ten come back once their ack wait (1 s) has passed
            await Task.Yield();
        }

        handled.ShouldBe(22);
        _pager.Sent.Select(s => (s.Key, s.Name)).ShouldBe([($"immune_critical_checkout_{instance}_{ids[3]}", "trigger"), ($"immune_critical_checkout_{instance}_{ids[13]}", "trigger")], ignoreOrder: true);
        (survivor.GetStatus().Pending, survivor.GetStatus().Lag).ShouldBe((0L, 0L));
    }

    [Fact]
    public async Task CopiesTheServerCannotRecognise_AreStoppedByTheLedger_EachActionOnceInTimeOrder()
    {
        string instance = await ProduceAsync("checkout", async service =>
        {
            long a = await service.PublishAsync(Critical("a"));
            long b = await service.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "b"));
            await service.ChangeSeverityAsync(b, ImmuneSeverity.Critical);
            await service.ChangeSeverityAsync(a, ImmuneSeverity.Info);
            await service.ChangeSeverityAsync(a, ImmuneSeverity.Critical);
        });
        await CopyEveryMessageWithoutItsIdAsync();
        NatsConsumerGroup solo = Consumer(Options(o => o.BatchSize = 4));

        await DrainAsync(solo).WaitAsync(HangGuard);

        string a = $"immune_critical_checkout_{instance}_1", b = $"immune_critical_checkout_{instance}_2";
        _pager.Sent.Select(s => (s.Key, s.Name)).ShouldBe([(a, "trigger"), (b, "trigger"), (a, "resolve"), (a, "trigger")]);
    }

    [Fact]
    public async Task TwoConsumersOfTheGroupAtOnce_EachEnvelopeOnce_TheIncidentEndsInTheEventsState()
    {
        string instance = await ProduceAsync("checkout", async service =>
        {
            long a = await service.PublishAsync(Critical("a"));
            await service.ChangeSeverityAsync(a, ImmuneSeverity.Info);
            await service.ChangeSeverityAsync(a, ImmuneSeverity.Critical);
        });
        await CopyEveryMessageWithoutItsIdAsync();
        NatsJetStreamOptions options = Options(o => o.BatchSize = 2);
        NatsConsumerGroup first = Consumer(options), second = Consumer(options);
        await first.EnsureConsumerAsync();

        await Task.WhenAll(Task.Run(() => DrainAsync(first)), Task.Run(() => DrainAsync(second))).WaitAsync(HangGuard);

        _pager.Sent.Select(s => s.EnvelopeId).ShouldBeUnique();
        _pager.Sent.Select(s => s.At).ShouldBeInOrder(SortDirection.Ascending);
        _pager.Sent.ShouldAllBe(s => s.Key == $"immune_critical_checkout_{instance}_1");
        _pager.Sent[^1].Name.ShouldBe("trigger");
    }

    [Fact]
    public async Task AMessageThatIsNoEnvelope_GoesToTheDeadLetterStream_AndTheRestIsHandled()
    {
        NatsConsumerGroup solo = Consumer(Options());
        await solo.EnsureConsumerAsync();
        var js = new NatsJSContext(Connection);
        (await js.PublishAsync(Options().SubjectOf("immune.event_published"), "{not json"u8.ToArray(), NatsRawSerializer<byte[]>.Default)).EnsureSuccess();
        string instance = await ProduceAsync("checkout", service => service.PublishAsync(Critical("fine")).AsTask());

        await DrainAsync(solo);

        _pager.Sent.ShouldHaveSingleItem().Key.ShouldBe($"immune_critical_checkout_{instance}_1");
        (await js.GetStreamAsync($"{StreamName}_DEAD")).Info.State.Messages.ShouldBe(1);
    }

    [Fact]
    public async Task RunAsync_ThePagerIsDownForAWhile_TheLoopGoesOn_ThePageGoesWhenItIsBack()
    {
        var pager = new RecordingPager();
        var failures = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int failed = 0;
        pager.Problem = () =>
        {
            if (Interlocked.Increment(ref failed) >= 3) failures.TrySetResult();
            return new HttpRequestException("the pager is down");
        };
        var paged = new TaskCompletionSource<RecordingPager.Action>(TaskCreationOptions.RunContinuationsAsynchronously);
        pager.Took += action => paged.TrySetResult(action);
        NatsConsumerGroup consumer = Consumer(Options(o => o.PollInterval = TimeSpan.FromMilliseconds(10)), pager);
        string instance = await ProduceAsync("checkout", service => service.PublishAsync(Critical("during the outage")).AsTask());
        using var stop = new CancellationTokenSource();
        Task running = consumer.RunAsync(stop.Token);

        await failures.Task.WaitAsync(HangGuard);
        consumer.GetStatus().FailingSince.ShouldNotBeNull();
        consumer.GetStatus().LastReadAt.ShouldNotBeNull(); // the broker answers: what the host shows is live, paging is what fails
        pager.Problem = static () => null;

        (await paged.Task.WaitAsync(HangGuard)).Key.ShouldBe($"immune_critical_checkout_{instance}_1");
        await stop.CancelAsync();
        await running.WaitAsync(HangGuard);
        running.IsCompletedSuccessfully.ShouldBeTrue();
    }

    /// <summary>Publishes a copy of every message without a message id: a duplicate the server cannot drop.</summary>
    private async Task CopyEveryMessageWithoutItsIdAsync()
    {
        var copies = (await ReadAllAsync()).Select(r => (r.Subject, Data: ImmuneJson.SerializeToUtf8Bytes(r.Envelope))).ToList();
        var js = new NatsJSContext(Connection);
        foreach ((string subject, byte[] data) in copies)
        {
            (await js.PublishAsync(subject, data, NatsRawSerializer<byte[]>.Default)).EnsureSuccess();
        }
    }
}

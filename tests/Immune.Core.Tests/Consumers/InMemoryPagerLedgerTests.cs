namespace Immune.Tests.Consumers;

/// <summary><see cref="InMemoryPagerLedger"/>: each key's actions are sent once, in time order, and never overlap.</summary>
public sealed class InMemoryPagerLedgerTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task SendOnceAsync_LaterSent_SameOrOlderNot_AFailedSendRecordsNothing()
    {
        var ledger = new InMemoryPagerLedger();
        int sent = 0;
        Task Send() { sent++; return Task.CompletedTask; }

        (await ledger.SendOnceAsync("k", "trigger", At, "e1", Send, default)).ShouldBeTrue();
        (await ledger.SendOnceAsync("k", "trigger", At, "e1", Send, default)).ShouldBeFalse();
        (await ledger.SendOnceAsync("k", "trigger", At.AddMilliseconds(-1), "e0", Send, default)).ShouldBeFalse();
        await Should.ThrowAsync<IOException>(() => ledger.SendOnceAsync("k", "resolve", At.AddSeconds(1), "e2", () => throw new IOException("down"), default));
        (await ledger.SendOnceAsync("k", "resolve", At.AddSeconds(1), "e2", Send, default)).ShouldBeTrue();
        (await ledger.SendOnceAsync("other", "trigger", At, "e3", Send, default)).ShouldBeTrue();

        sent.ShouldBe(3);
    }

    [Fact]
    public async Task SendOnceAsync_ManyConsumersOnOneKey_CallsNeverOverlap_AndEachTimeIsSentOnce()
    {
        var ledger = new InMemoryPagerLedger();
        int inside = 0, overlaps = 0, sent = 0;
        async Task Send()
        {
            if (Interlocked.Increment(ref inside) > 1) Interlocked.Increment(ref overlaps);
            await Task.Yield();
            Interlocked.Increment(ref sent);
            Interlocked.Decrement(ref inside);
        }

        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(() => ledger.SendOnceAsync("k", "trigger", At.AddMilliseconds(i % 40), $"e{i}", Send, default))));

        overlaps.ShouldBe(0);
        sent.ShouldBeInRange(1, 40); // each time at most once; an older one after a newer is superseded
    }
}

namespace Immune.Redis.Tests;

/// <summary><see cref="RedisPagerLedger"/> on a real redis-server: shared by every consumer of a group, one decision per action.</summary>
[Collection(nameof(RedisCollection))]
public sealed class RedisPagerLedgerTests(RedisFixture redis) : RedisStreamTest(redis)
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task SendOnceAsync_TwoLedgersOfOneGroup_EachActionOnce_InTimeOrder_AFailedSendRecordsNothing()
    {
        var a = new RedisPagerLedger(Connection, Options());
        var b = new RedisPagerLedger(Connection, Options());
        int sent = 0;
        Task Send() { Interlocked.Increment(ref sent); return Task.CompletedTask; }

        (await a.SendOnceAsync("k", "trigger", At, "e1", Send, default)).ShouldBeTrue();
        (await b.SendOnceAsync("k", "trigger", At, "e1", Send, default)).ShouldBeFalse(); // the other consumer got it again
        await Should.ThrowAsync<HttpRequestException>(() => b.SendOnceAsync("k", "resolve", At.AddSeconds(1), "e2", () => throw new HttpRequestException("down"), default));
        (await a.SendOnceAsync("k", "resolve", At.AddSeconds(1), "e2", Send, default)).ShouldBeTrue(); // the failed one was not recorded
        (await b.SendOnceAsync("k", "trigger", At.AddMilliseconds(500), "e3", Send, default)).ShouldBeFalse(); // older than the resolve sent

        sent.ShouldBe(2);
    }

    [Fact]
    public async Task SendOnceAsync_ManyConsumersAtOnceOnOneKey_CallsNeverOverlap()
    {
        RedisPagerLedger[] ledgers = [.. Enumerable.Range(0, 4).Select(_ => new RedisPagerLedger(Connection, Options()))];
        int inside = 0, overlaps = 0, sent = 0;
        async Task Send()
        {
            if (Interlocked.Increment(ref inside) > 1) Interlocked.Increment(ref overlaps);
            await Task.Yield();
            Interlocked.Increment(ref sent);
            Interlocked.Decrement(ref inside);
        }

        await Task.WhenAll(Enumerable.Range(0, 80).Select(i => Task.Run(() => ledgers[i % 4].SendOnceAsync("k", "trigger", At.AddMilliseconds(i % 20), $"e{i}", Send, default))))
            .WaitAsync(HangGuard);

        overlaps.ShouldBe(0);
        sent.ShouldBeInRange(1, 20);
    }
}

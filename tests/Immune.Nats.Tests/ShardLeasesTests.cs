using System.Diagnostics;
using Immune.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Immune.Nats.Tests;

/// <summary>
/// The group's members divide the shards by leases on a real nats-server: a share each, every shard held once, a dead
/// member's shards taken by the survivor once its leases run out, a member that stops giving its shards back at once,
/// and each member paging only the shards it holds.
/// </summary>
public sealed class ShardLeasesTests(ITestOutputHelper output) : NatsTest
{
    private readonly RecordingPager _pager = new();

    private NatsJetStreamOptions ShardedOptions() => Options(o => { o.Shards = 4; o.LeaseTtl = TimeSpan.FromSeconds(2); });

    private NatsConsumerGroup Member(RecordingPager? pager = null)
        => new(Connection, new ImmunePaging(pager ?? _pager, new NatsPagerLedger(Connection, ShardedOptions())), ShardedOptions(), NullLogger<NatsConsumerGroup>.Instance);

    private static NatsShardLeases Leases(NatsConsumerGroup member) => member.Leases!;

    private static void EveryShardHeldOnce(params NatsConsumerGroup[] members)
        => members.SelectMany(m => Leases(m).Held).Order().ShouldBe([0, 1, 2, 3]);

    [Fact]
    public async Task TwoMembers_TheFirstTakesEveryShard_ThenGivesTheSecondItsShare()
    {
        NatsConsumerGroup a = Member(), b = Member();
        await Leases(a).TurnAsync(default);
        Leases(a).Held.Count.ShouldBe(4); // alone: every shard
        await Leases(b).TurnAsync(default);
        Leases(b).Held.ShouldBeEmpty(); // every shard is held: none to take yet
        await Leases(a).TurnAsync(default);
        Leases(a).Held.Count.ShouldBe(2); // two members: a gives back what is beyond its share
        await Leases(b).TurnAsync(default);
        Leases(b).Held.Count.ShouldBe(2);
        EveryShardHeldOnce(a, b);

        foreach (int turn in Enumerable.Range(0, 3))
        {
            await Leases(a).TurnAsync(default);
            await Leases(b).TurnAsync(default);
            EveryShardHeldOnce(a, b); // renewals keep the division
        }
    }

    [Fact]
    public async Task AMemberDies_TheSurvivorTakesItsShardsOnceItsLeasesRunOut()
    {
        NatsConsumerGroup a = Member(), b = Member();
        foreach (int turn in Enumerable.Range(0, 2))
        {
            await Leases(a).TurnAsync(default);
            await Leases(b).TurnAsync(default);
        }

        EveryShardHeldOnce(a, b);
        long died = Stopwatch.GetTimestamp(); // b takes no further turn, as a process killed now would not

        using var guard = new CancellationTokenSource(HangGuard);
        while (Leases(a).Held.Count < 4)
        {
            await Task.Delay(Leases(a).TurnInterval, guard.Token); // a's turns come at its interval: the server ages b's leases out meanwhile
            await Leases(a).TurnAsync(guard.Token);
        }

        output.WriteLine($"the survivor held every shard {Stopwatch.GetElapsedTime(died).TotalSeconds:F2} s after the other's last renewal (lease {ShardedOptions().LeaseTtl.TotalSeconds} s, a turn every {Leases(a).TurnInterval.TotalSeconds} s)");
    }

    [Fact]
    public async Task AMemberThatStops_GivesItsShardsBack_TheOtherTakesThemAtItsNextTurn()
    {
        NatsConsumerGroup a = Member(), b = Member();
        await b.EnsureConsumerAsync();
        using (var stop = new CancellationTokenSource())
        {
            Task running = b.RunAsync(stop.Token);
            await Leases(a).TurnAsync(default);
            using var guard = new CancellationTokenSource(HangGuard);
            while (Leases(b).Held.Count == 0 || Leases(a).Held.Count + Leases(b).Held.Count < 4)
            {
                await Task.Delay(Leases(a).TurnInterval, guard.Token); // b runs its own turns; a takes its turns at its interval
                await Leases(a).TurnAsync(guard.Token);
            }

            stop.Cancel();
            await running.WaitAsync(HangGuard);
        }

        Leases(b).Held.ShouldBeEmpty();
        await Leases(a).TurnAsync(default);
        Leases(a).Held.Count.ShouldBe(4); // given back: no wait for the leases to run out
    }

    [Fact]
    public async Task EachMember_PagesOnlyTheShardsItHolds_EveryCriticalOnce()
    {
        NatsJetStreamOptions options = ShardedOptions();
        var keysByShard = new Dictionary<int, List<string>>();
        foreach (int i in Enumerable.Range(0, 12))
        {
            string source = $"service-{i}";
            long critical = 0;
            string instance = await ProduceAsync(source, async service => critical = await service.PublishAsync(Critical(source)), o => o.Shards = 4);
            keysByShard.TryAdd(options.ShardOf(source), []);
            keysByShard[options.ShardOf(source)].Add($"immune_critical_{source}_{instance}_{critical}");
        }

        RecordingPager pagerA = new(), pagerB = new();
        NatsConsumerGroup a = Member(pagerA), b = Member(pagerB);
        await Leases(a).TurnAsync(default);
        await Leases(b).TurnAsync(default);
        await Leases(a).TurnAsync(default);
        await Leases(b).TurnAsync(default);
        EveryShardHeldOnce(a, b);

        while (await a.ReadOnceAsync() + await b.ReadOnceAsync() > 0)
        {
        }

        pagerA.Sent.Select(s => s.Key).ShouldBe(Leases(a).Held.SelectMany(shard => keysByShard.GetValueOrDefault(shard, [])), ignoreOrder: true);
        pagerB.Sent.Select(s => s.Key).ShouldBe(Leases(b).Held.SelectMany(shard => keysByShard.GetValueOrDefault(shard, [])), ignoreOrder: true);
        (pagerA.Sent.Count + pagerB.Sent.Count).ShouldBe(12);
    }
}

using Immune.Storage;

namespace Immune.Tests.Storage;

public sealed class EventStoreTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    private static ImmuneEvent Event(long id, int second, ImmuneSeverity severity = ImmuneSeverity.Info, ImmuneEventType type = ImmuneEventType.ErrorSpike)
        => new(id, Start.AddSeconds(second), severity, type, $"e{id}");

    [Fact]
    public void Add_BeyondCapacity_EvictsTheOldestAndKeepsIdsIncreasing()
    {
        var store = new EventStore(3);
        for (int id = 1; id <= 5; id++) store.Add(Event(id, id));

        (store.Count, store.LastId).ShouldBe((3, 5L));
        store.TryGet(2, out _).ShouldBeFalse();
        store.TryGet(3, out ImmuneEvent third).ShouldBeTrue();
        third.Message.ShouldBe("e3");
        store.TryGet(6, out _).ShouldBeFalse();
        store.LastCreatedAt.ShouldBe(Start.AddSeconds(5));
    }

    [Fact]
    public void FirstIdAtOrAfter_FindsTheWindowByTimeAcrossTheRingsWrap()
    {
        var store = new EventStore(4);
        int[] seconds = [1, 2, 2, 3, 5, 8]; // ids 3..6 retained: seconds 2, 3, 5, 8
        for (int i = 0; i < seconds.Length; i++) store.Add(Event(i + 1, seconds[i]));

        store.FirstIdAtOrAfter(Start).ShouldBe(3);           // everything retained
        store.FirstIdAtOrAfter(Start.AddSeconds(3)).ShouldBe(4);
        store.FirstIdAtOrAfter(Start.AddSeconds(4)).ShouldBe(5);
        store.FirstIdAtOrAfter(Start.AddSeconds(9)).ShouldBe(7); // none: LastId + 1
    }

    [Fact]
    public void CountBySeverityAndType_FollowEvictionAndReplace()
    {
        var store = new EventStore(3);
        store.Add(Event(1, 1, ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation));
        store.Add(Event(2, 2, ImmuneSeverity.Warning));
        store.Add(Event(3, 3, ImmuneSeverity.Critical));
        store.Add(Event(4, 4)); // evicts 1

        store.CountBySeverity(ImmuneSeverity.Critical, fromId: 2).ShouldBe(1);
        store.CountByType(ImmuneEventType.PolicyViolation, fromId: 2).ShouldBe(0);
        store.Replace(store.Get(3) with { Severity = ImmuneSeverity.Info });
        store.CountBySeverity(ImmuneSeverity.Critical, fromId: 2).ShouldBe(0);
        store.CountBySeverity(ImmuneSeverity.Info, fromId: 2).ShouldBe(2);
        store.CountBySeverity(ImmuneSeverity.Info, fromId: 4).ShouldBe(1);
        store.CountBySeverity(ImmuneSeverity.Warning, fromId: 5).ShouldBe(0);
    }

    [Fact]
    public void Counts_SeededRandomTraffic_AgreeWithANaiveRecount()
    {
        var random = new Random(17);
        var store = new EventStore(50);
        var all = new List<ImmuneEvent>();
        for (int id = 1; id <= 2_000; id++)
        {
            ImmuneEvent e = Event(id, id / 3, (ImmuneSeverity)random.Next(3), (ImmuneEventType)random.Next(3));
            store.Add(e);
            all.Add(e);
            if (random.Next(5) == 0)
            {
                long target = random.NextInt64(Math.Max(1, id - 49), id + 1);
                ImmuneEvent changed = store.Get(target) with { Severity = (ImmuneSeverity)random.Next(3) };
                store.Replace(changed);
                all[(int)target - 1] = changed;
            }

            long from = random.NextInt64(Math.Max(1, id - 49), id + 2);
            foreach (ImmuneSeverity severity in Enum.GetValues<ImmuneSeverity>())
            {
                store.CountBySeverity(severity, from).ShouldBe(all.Skip((int)from - 1).Count(x => x.Severity == severity));
            }

            foreach (ImmuneEventType type in Enum.GetValues<ImmuneEventType>())
            {
                store.CountByType(type, from).ShouldBe(all.Skip((int)from - 1).Count(x => x.Type == type));
            }
        }
    }
}

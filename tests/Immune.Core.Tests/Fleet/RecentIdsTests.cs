using Immune.Fleet;

namespace Immune.Tests.Fleet;

public sealed class RecentIdsTests
{
    [Fact]
    public void Add_RemembersTheLastCapacityDistinctIds_ForgettingTheOldestFirst()
    {
        var ids = new RecentIds(3);

        ids.Add("a").ShouldBeTrue();
        ids.Add("b").ShouldBeTrue();
        ids.Add("a").ShouldBeFalse(); // remembered: not added again, and not made younger
        ids.Add("c").ShouldBeTrue();
        ids.Add("d").ShouldBeTrue(); // "a" leaves
        ids.Count.ShouldBe(3);

        ids.Add("b").ShouldBeFalse();
        ids.Add("a").ShouldBeTrue(); // forgotten, so new again; "b" leaves
        ids.Add("b").ShouldBeTrue();
    }

    [Fact]
    public void Add_IsOrdinal()
    {
        var ids = new RecentIds(10);

        ids.Add("evt_A").ShouldBeTrue();
        ids.Add("evt_a").ShouldBeTrue();
    }

    [Fact]
    public void Add_ManyMoreThanCapacity_StaysBounded()
    {
        var ids = new RecentIds(100);
        for (int i = 0; i < 10_000; i++)
        {
            ids.Add($"evt_{i}").ShouldBeTrue();
        }

        ids.Count.ShouldBe(100);
        ids.Add("evt_9999").ShouldBeFalse();
        ids.Add("evt_9899").ShouldBeTrue(); // the 101st newest is forgotten
    }
}

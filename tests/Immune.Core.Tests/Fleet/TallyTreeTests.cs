using Immune.Fleet;
using Immune.Internal;

namespace Immune.Tests.Fleet;

public sealed class TallyTreeTests
{
    [Fact]
    public void From_Empty_IsZero()
    {
        var tree = new TallyTree<int>();

        tree.From(long.MinValue).Total.ShouldBe(0);
        tree.First.ShouldBeNull();
        tree.Count.ShouldBe(0);
    }

    [Fact]
    public void From_CountsItemsAtOrAfterTheTime_BySeverityAndType()
    {
        var tree = new TallyTree<int>();
        tree.Add(30, Tally.Of(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation), 1);
        tree.Add(10, Tally.Of(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike), 2);
        tree.Add(20, Tally.Of(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike), 3);
        tree.Add(20, Tally.Of(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction), 4);

        Tally from20 = tree.From(20);

        from20.Total.ShouldBe(3);
        from20.Critical.ShouldBe(1);
        from20.Warning.ShouldBe(1);
        from20.Info.ShouldBe(1);
        from20.ErrorSpike.ShouldBe(1);
        tree.From(31).Total.ShouldBe(0);
        tree.From(long.MinValue).Total.ShouldBe(4);
        tree.First!.Item.ShouldBe(2);
    }

    [Fact]
    public void First_EqualTimes_IsTheFirstAdded()
    {
        var tree = new TallyTree<int>();
        for (int i = 0; i < 50; i++)
        {
            tree.Add(7, Tally.One, i);
        }

        for (int i = 0; i < 50; i++)
        {
            TallyTree<int>.Node first = tree.First!;
            first.Item.ShouldBe(i);
            tree.Remove(first);
        }

        tree.Count.ShouldBe(0);
    }

    /// <summary>Random adds, removes, retallies and queries on fixed seeds, each checked against a plain list.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Operations_RandomSequence_MatchAPlainList(int seed)
    {
        var random = new Random(seed);
        var tree = new TallyTree<int>();
        var model = new List<(TallyTree<int>.Node Node, ImmuneSeverity Severity, ImmuneEventType Type)>();
        for (int step = 0; step < 4_000; step++)
        {
            int roll = random.Next(10);
            if (roll < 5 || model.Count == 0)
            {
                long ticks = random.Next(-50, 200); // narrow: many equal times
                var severity = (ImmuneSeverity)random.Next(3);
                var type = (ImmuneEventType)random.Next(3);
                model.Add((tree.Add(ticks, Tally.Of(severity, type), step), severity, type));
            }
            else if (roll < 7)
            {
                int at = random.Next(model.Count);
                tree.Remove(model[at].Node);
                model.RemoveAt(at);
            }
            else if (roll < 8)
            {
                int at = random.Next(model.Count);
                var severity = (ImmuneSeverity)random.Next(3);
                tree.Retally(model[at].Node, Tally.Of(severity, model[at].Type));
                model[at] = (model[at].Node, severity, model[at].Type);
            }
            else
            {
                long from = random.Next(-60, 210);
                Tally tally = tree.From(from);
                var inWindow = model.Where(m => m.Node.Ticks >= from).ToList();
                tally.Total.ShouldBe(inWindow.Count);
                foreach (ImmuneSeverity severity in Enum.GetValues<ImmuneSeverity>())
                {
                    tally.Count(severity).ShouldBe(inWindow.Count(m => m.Severity == severity));
                }

                foreach (ImmuneEventType type in Enum.GetValues<ImmuneEventType>())
                {
                    tally.Count(type).ShouldBe(inWindow.Count(m => m.Type == type));
                }
            }

            tree.Count.ShouldBe(model.Count);
            if (model.Count > 0)
            {
                var first = model.OrderBy(m => m.Node.Ticks).ThenBy(m => m.Node.Arrival).First();
                tree.First.ShouldBeSameAs(first.Node);
            }
        }
    }

    [Fact]
    public void Add_AscendingTimes_StaysShallow()
    {
        // Times mostly arrive in order: a plain search tree would degenerate into a list of a million levels.
        var tree = new TallyTree<int>();
        for (int i = 0; i < 1_000_000; i++)
        {
            tree.Add(i, Tally.One, i);
        }

        Depth(tree).ShouldBeLessThan(80);
        tree.From(999_000).Total.ShouldBe(1_000);
    }

    private static int Depth(TallyTree<int> tree)
    {
        int deepest = 0;
        var stack = new Stack<(TallyTree<int>.Node Node, int Depth)>();
        stack.Push((tree.Root!, 1));
        while (stack.Count > 0)
        {
            var (node, depth) = stack.Pop();
            deepest = Math.Max(deepest, depth);
            if (node.Left is not null) stack.Push((node.Left, depth + 1));
            if (node.Right is not null) stack.Push((node.Right, depth + 1));
        }

        return deepest;
    }

    [Fact]
    public void First_EqualTimesWithATieOrder_IsTheFirstInThatOrderWhateverTheOrderOfAddition()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 100; trial++)
        {
            var tree = new TallyTree<string>(StringComparer.Ordinal);
            var nodes = new Dictionary<string, TallyTree<string>.Node>();
            foreach (string item in new[] { "d", "b", "e", "a", "c" }.OrderBy(_ => random.Next()))
            {
                nodes[item] = tree.Add(100, Tally.One, item);
            }

            tree.Add(200, Tally.One, "0"); // later: never first
            tree.First!.Item.ShouldBe("a");
            tree.Remove(nodes["a"]);
            tree.First!.Item.ShouldBe("b");
        }
    }
}

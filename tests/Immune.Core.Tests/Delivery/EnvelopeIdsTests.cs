using System.Text.RegularExpressions;
using Immune.Delivery;

namespace Immune.Tests.Delivery;

public sealed partial class EnvelopeIdsTests
{
    [GeneratedRegex("^evt_immune_(?<ms>[0-9]+)_(?<hex>[0-9a-f]{16})$")]
    private static partial Regex Shape();

    [Fact]
    public void Next_HasTheDocumentedShape_WithTheTimestampsMilliseconds()
    {
        var at = new DateTimeOffset(2026, 11, 29, 9, 0, 0, 123, TimeSpan.FromHours(2));

        Match match = Shape().Match(EnvelopeIds.Next(at));

        match.Success.ShouldBeTrue();
        long.Parse(match.Groups["ms"].Value, System.Globalization.CultureInfo.InvariantCulture).ShouldBe(at.ToUnixTimeMilliseconds());
    }

    [Fact]
    public void Next_FromManyThreadsAtOneInstant_NeverRepeats()
    {
        var at = new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();

        Parallel.For(0, 200_000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ => ids.Add(EnvelopeIds.Next(at)));

        ids.Distinct(StringComparer.Ordinal).Count().ShouldBe(200_000);
    }

    [Fact]
    public void Next_HexPart_LooksRandom_NotACounter()
    {
        var at = DateTimeOffset.UnixEpoch;
        string[] hex = [.. Enumerable.Range(0, 4_096).Select(_ => Shape().Match(EnvelopeIds.Next(at)).Groups["hex"].Value)];

        // Each of the 16 hex digits takes each of its 16 values about equally often (a counter would leave the high ones fixed).
        for (int position = 0; position < 16; position++)
        {
            int[] counts = new int[16];
            foreach (string h in hex) counts[Convert.ToInt32(h[position].ToString(), 16)]++;
            counts.ShouldAllBe(c => c > 150 && c < 370, $"digit {position}");
        }
    }
}

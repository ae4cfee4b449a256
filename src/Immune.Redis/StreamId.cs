using System.Globalization;

namespace Immune.Redis;

/// <summary>A Redis stream entry id, <c>&lt;milliseconds&gt;-&lt;sequence&gt;</c>, ordered as Redis orders them.</summary>
internal readonly record struct StreamId(long Milliseconds, long Sequence) : IComparable<StreamId>
{
    public static readonly StreamId Zero = new(0, 0);

    public static StreamId Parse(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return Zero;
        }

        int dash = id.IndexOf('-', StringComparison.Ordinal);
        return dash < 0
            ? new StreamId(long.Parse(id, CultureInfo.InvariantCulture), 0)
            : new StreamId(long.Parse(id.AsSpan(0, dash), CultureInfo.InvariantCulture), long.Parse(id.AsSpan(dash + 1), CultureInfo.InvariantCulture));
    }

    public static StreamId Min(StreamId a, StreamId b) => a.CompareTo(b) <= 0 ? a : b;

    public int CompareTo(StreamId other)
    {
        int c = Milliseconds.CompareTo(other.Milliseconds);
        return c != 0 ? c : Sequence.CompareTo(other.Sequence);
    }

    public static bool operator <(StreamId a, StreamId b) => a.CompareTo(b) < 0;

    public static bool operator >(StreamId a, StreamId b) => a.CompareTo(b) > 0;

    public static bool operator <=(StreamId a, StreamId b) => a.CompareTo(b) <= 0;

    public static bool operator >=(StreamId a, StreamId b) => a.CompareTo(b) >= 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Milliseconds}-{Sequence}");
}

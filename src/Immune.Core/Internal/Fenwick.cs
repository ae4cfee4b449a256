namespace Immune.Internal;

/// <summary>A Fenwick (binary indexed) tree of counts over fixed slots: point update and range count in O(log n).</summary>
internal sealed class Fenwick(int size)
{
    private readonly int[] _tree = new int[size + 1];

    public void Add(int slot, int delta)
    {
        for (int i = slot + 1; i < _tree.Length; i += i & -i)
        {
            _tree[i] += delta;
        }
    }

    /// <summary>Counts slots <c>[from, to)</c>.</summary>
    public int Count(int from, int to) => Prefix(to) - Prefix(from);

    private int Prefix(int end)
    {
        int sum = 0;
        for (int i = end; i > 0; i -= i & -i)
        {
            sum += _tree[i];
        }

        return sum;
    }
}

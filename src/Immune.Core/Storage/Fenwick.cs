using System.Numerics;

namespace Immune.Storage;

/// <summary>A Fenwick (binary indexed) tree of counts over fixed slots: point update and range count in O(log n).</summary>
/// <typeparam name="T">The count type: <see cref="int"/> for events, <see cref="long"/> for occurrences.</typeparam>
internal sealed class Fenwick<T>(int size)
    where T : struct, INumber<T>
{
    private readonly T[] _tree = new T[size + 1];

    public void Add(int slot, T delta)
    {
        for (int i = slot + 1; i < _tree.Length; i += i & -i)
        {
            _tree[i] += delta;
        }
    }

    /// <summary>Counts slots <c>[from, to)</c>.</summary>
    public T Count(int from, int to) => Prefix(to) - Prefix(from);

    private T Prefix(int end)
    {
        T sum = T.Zero;
        for (int i = end; i > 0; i -= i & -i)
        {
            sum += _tree[i];
        }

        return sum;
    }
}

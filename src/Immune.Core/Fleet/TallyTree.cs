using Immune.Internal;

namespace Immune.Fleet;

/// <summary>
/// Items ordered by time, each carrying a <see cref="Tally"/>, with the tally of every item at or after a given time in
/// O(log n) — for windows over items that arrive in any time order. A treap: a binary search tree on (ticks, the items'
/// own order when one is given, arrival), heap-ordered on random priorities so its expected depth is O(log n) whatever
/// the insertion order; every node keeps the sum of its subtree. Not thread-safe.
/// </summary>
/// <param name="ties">Orders items of equal times (then <see cref="First"/> does not depend on the order they were added in); null to keep their order of addition.</param>
internal sealed class TallyTree<T>(IComparer<T>? ties = null)
{
    private Node? _root;
    private long _arrivals;
    private uint _random = 0x9E3779B9; // xorshift32 state: priorities only need to be independent of the keys

    public int Count { get; private set; }

    /// <summary>Gets the root, for tests of the tree's shape.</summary>
    internal Node? Root => _root;

    /// <summary>Gets the earliest item (among equal times, the first in the items' own order, else the first added), or null when empty.</summary>
    public Node? First
    {
        get
        {
            Node? node = _root;
            while (node?.Left is not null)
            {
                node = node.Left;
            }

            return node;
        }
    }

    /// <summary>Adds <paramref name="item"/> at <paramref name="ticks"/>; items at equal times are ordered by the tree's tie order, then by addition.</summary>
    public Node Add(long ticks, in Tally tally, T item)
    {
        _random ^= _random << 13;
        _random ^= _random >> 17;
        _random ^= _random << 5;
        var node = new Node(ticks, ++_arrivals, _random, tally, item);
        _root = Insert(_root, node);
        Count++;
        return node;
    }

    public void Remove(Node node)
    {
        _root = Delete(_root, node);
        Count--;
    }

    /// <summary>Replaces an item's tally; its place in the order does not change.</summary>
    public void Retally(Node node, in Tally tally)
    {
        Tally delta = tally;
        delta.Add(node.Own, -1);
        for (Node? at = _root; at is not null; at = Precedes(node, at) ? at.Left : at.Right)
        {
            at.Sum.Add(delta, +1);
            if (ReferenceEquals(at, node))
            {
                break;
            }
        }

        node.Own = tally;
    }

    /// <summary>Sums the tallies of the items at or after <paramref name="ticks"/>.</summary>
    public Tally From(long ticks)
    {
        Tally sum = default;
        for (Node? at = _root; at is not null;)
        {
            if (at.Ticks >= ticks)
            {
                sum.Add(at.Own, +1);
                if (at.Right is not null) sum.Add(at.Right.Sum, +1);
                at = at.Left;
            }
            else
            {
                at = at.Right;
            }
        }

        return sum;
    }

    private bool Precedes(Node a, Node b)
    {
        if (a.Ticks != b.Ticks)
        {
            return a.Ticks < b.Ticks;
        }

        int c = ties?.Compare(a.Item, b.Item) ?? 0;
        return c != 0 ? c < 0 : a.Arrival < b.Arrival;
    }

    private Node Insert(Node? at, Node node)
    {
        if (at is null)
        {
            return node;
        }

        if (node.Priority > at.Priority)
        {
            Split(at, node, out node.Left, out node.Right);
            node.Resum();
            return node;
        }

        if (Precedes(node, at))
        {
            at.Left = Insert(at.Left, node);
        }
        else
        {
            at.Right = Insert(at.Right, node);
        }

        at.Sum.Add(node.Own, +1);
        return at;
    }

    private Node? Delete(Node? at, Node node)
    {
        if (at is null)
        {
            throw new InvalidOperationException("The node is not in this tree.");
        }

        if (ReferenceEquals(at, node))
        {
            return Merge(at.Left, at.Right);
        }

        if (Precedes(node, at))
        {
            at.Left = Delete(at.Left, node);
        }
        else
        {
            at.Right = Delete(at.Right, node);
        }

        at.Sum.Add(node.Own, -1);
        return at;
    }

    /// <summary>Splits a subtree into the items before <paramref name="key"/> and those after it.</summary>
    private void Split(Node? at, Node key, out Node? before, out Node? after)
    {
        if (at is null)
        {
            before = after = null;
        }
        else if (Precedes(at, key))
        {
            Split(at.Right, key, out at.Right, out after);
            at.Resum();
            before = at;
        }
        else
        {
            Split(at.Left, key, out before, out at.Left);
            at.Resum();
            after = at;
        }
    }

    /// <summary>Joins two subtrees where every item of <paramref name="left"/> precedes every item of <paramref name="right"/>.</summary>
    private static Node? Merge(Node? left, Node? right)
    {
        if (left is null) return right;
        if (right is null) return left;
        if (left.Priority > right.Priority)
        {
            left.Right = Merge(left.Right, right);
            left.Resum();
            return left;
        }

        right.Left = Merge(left, right.Left);
        right.Resum();
        return right;
    }

    /// <summary>An item; hold on to it to remove or retally the item later.</summary>
    internal sealed class Node(long ticks, long arrival, uint priority, Tally own, T item)
    {
        public readonly long Ticks = ticks;
        public readonly long Arrival = arrival;
        public readonly uint Priority = priority;
        public readonly T Item = item;
        public Node? Left;
        public Node? Right;
        public Tally Own = own;
        public Tally Sum = own;

        public void Resum()
        {
            Sum = Own;
            if (Left is not null) Sum.Add(Left.Sum, +1);
            if (Right is not null) Sum.Add(Right.Sum, +1);
        }
    }
}

namespace Immune.Folding;

/// <summary>What makes two publishes identical for folding: everything but the meta.</summary>
internal readonly record struct FoldKey(ImmuneSeverity Severity, ImmuneEventType Type, string Message, string? AgentId, string? Module)
{
    /// <summary>Hashes the message, severity and type only (agent id and module rarely tell storms apart); equality checks all.</summary>
    public static readonly IEqualityComparer<FoldKey> Comparer = new KeyComparer();

    public static FoldKey Of(NewImmuneEvent e) => new(e.Severity, e.Type, e.Message, e.AgentId, e.Module);

    public static FoldKey Of(ImmuneEvent e) => new(e.Severity, e.Type, e.Message, e.AgentId, e.Module);

    private sealed class KeyComparer : IEqualityComparer<FoldKey>
    {
        public bool Equals(FoldKey x, FoldKey y)
            => x.Severity == y.Severity && x.Type == y.Type
            && string.Equals(x.Message, y.Message, StringComparison.Ordinal)
            && string.Equals(x.AgentId, y.AgentId, StringComparison.Ordinal)
            && string.Equals(x.Module, y.Module, StringComparison.Ordinal);

        public int GetHashCode(FoldKey key) => key.Message.GetHashCode(StringComparison.Ordinal) ^ ((int)key.Severity << 2 | (int)key.Type);
    }
}

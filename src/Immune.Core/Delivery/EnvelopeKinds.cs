namespace Immune.Delivery;

/// <summary>The one table between envelope kinds and their wire types; it throws on anything it does not know.</summary>
internal static class EnvelopeKinds
{
    private static readonly string[] Types = [ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent, ImmuneEventTypes.SeverityChanged, ImmuneEventTypes.EventRepeated];

    public static string TypeOf(EnvelopeKind kind)
        => (uint)kind < (uint)Types.Length ? Types[(int)kind] : throw new ArgumentOutOfRangeException(nameof(kind), kind, "An envelope kind without a wire type.");

    public static EnvelopeKind Of(string type)
    {
        int index = Array.IndexOf(Types, type);
        return index >= 0 ? (EnvelopeKind)index : throw new ArgumentOutOfRangeException(nameof(type), type, "A wire type of no envelope kind.");
    }
}

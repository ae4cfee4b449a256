namespace Immune.Fleet;

/// <summary>How observations at the same instant rank: the order in which one producer publishes them.</summary>
internal enum ObservationRank
{
    Published = 1,
    Repeated = 2,
    Critical = 3,
    SeverityChanged = 4,
}

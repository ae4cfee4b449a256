namespace Immune.Fleet;

/// <summary>An event's fleet identity: the same event in every envelope about it, and no other event.</summary>
internal readonly record struct FleetKey(string Source, string? InstanceId, long EventId);

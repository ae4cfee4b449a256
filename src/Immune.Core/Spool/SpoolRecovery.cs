namespace Immune.Spool;

/// <summary>What recovery found: how many envelopes it replayed, and the damage it cut off (files moved aside).</summary>
internal readonly record struct SpoolRecovery(long Replayed, int DamagedRegions, IReadOnlyList<string> MovedAside);

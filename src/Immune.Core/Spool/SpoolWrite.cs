namespace Immune.Spool;

/// <summary>What became of one envelope given to the spool.</summary>
internal enum SpoolWrite
{
    Written,
    Full,
    Unavailable,
}

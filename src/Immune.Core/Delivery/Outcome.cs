namespace Immune.Delivery;

/// <summary>How one envelope (or one attempt) ended.</summary>
internal enum Outcome : byte
{
    Delivered,
    FailedTimeout,
    FailedStreamError,
    FailedRejected,
    DroppedShutdown,
}

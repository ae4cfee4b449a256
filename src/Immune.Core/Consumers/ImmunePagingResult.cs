namespace Immune;

/// <summary>What <see cref="ImmunePaging.HandleAsync"/> did with one envelope.</summary>
public enum ImmunePagingResult
{
    /// <summary>The envelope asks nothing of the pager (not an escalation or a resolution).</summary>
    Ignored,

    /// <summary>The page (or resolution) was sent now.</summary>
    Sent,

    /// <summary>Nothing was sent: a redelivery, or an action superseded by a later one already sent for the same incident.</summary>
    AlreadySent,

    /// <summary>The pager refused the action for good (<see cref="ImmunePageRefusedException"/>): logged and counted, not recorded as sent, not retried.</summary>
    Refused,
}

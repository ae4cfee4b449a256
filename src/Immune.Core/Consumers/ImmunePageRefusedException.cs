namespace Immune;

/// <summary>
/// Thrown by an <see cref="IImmunePager"/> when the pager refused an action for good (the request itself is wrong, such
/// as HTTP 400 or 404): the action is neither recorded as sent nor tried again; it is logged and counted as refused.
/// </summary>
public sealed class ImmunePageRefusedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ImmunePageRefusedException()
        : base("The pager refused the action.")
    {
    }

    /// <summary>Creates the exception with the pager's reason.</summary>
    /// <param name="message">Why the pager refused it (its status and answer).</param>
    public ImmunePageRefusedException(string? message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the pager's reason and the error behind it.</summary>
    /// <param name="message">Why the pager refused it.</param>
    /// <param name="innerException">The error behind it.</param>
    public ImmunePageRefusedException(string? message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

namespace Immune.Internal;

/// <summary>Counts of events: in all, by severity and by type. A value type so a tree node's subtree sum costs no allocation.</summary>
internal struct Tally
{
    public int Total;
    public int Info;
    public int Warning;
    public int Critical;
    public int PolicyViolation;
    public int ErrorSpike;
    public int SelfHealingAction;

    /// <summary>Gets the tally of one thing that counts only in <see cref="Total"/> (an instance, say).</summary>
    public static Tally One => new() { Total = 1 };

    /// <summary>Gets the tally of one event.</summary>
    public static Tally Of(ImmuneSeverity severity, ImmuneEventType type)
    {
        Tally tally = One;
        switch (severity)
        {
            case ImmuneSeverity.Info: tally.Info = 1; break;
            case ImmuneSeverity.Warning: tally.Warning = 1; break;
            default: tally.Critical = 1; break;
        }

        switch (type)
        {
            case ImmuneEventType.PolicyViolation: tally.PolicyViolation = 1; break;
            case ImmuneEventType.ErrorSpike: tally.ErrorSpike = 1; break;
            default: tally.SelfHealingAction = 1; break;
        }

        return tally;
    }

    public readonly ImmuneHealthStatus Status => StatusOf(Warning, Critical);

    /// <summary>The one health-status rule: any CRITICAL is Critical, else any WARNING is Degraded, else Healthy.</summary>
    public static ImmuneHealthStatus StatusOf(int warning, int critical)
        => critical > 0 ? ImmuneHealthStatus.Critical : warning > 0 ? ImmuneHealthStatus.Degraded : ImmuneHealthStatus.Healthy;

    public readonly int Count(ImmuneSeverity severity) => severity switch
    {
        ImmuneSeverity.Info => Info,
        ImmuneSeverity.Warning => Warning,
        _ => Critical,
    };

    public readonly int Count(ImmuneEventType type) => type switch
    {
        ImmuneEventType.PolicyViolation => PolicyViolation,
        ImmuneEventType.ErrorSpike => ErrorSpike,
        _ => SelfHealingAction,
    };

    public void Add(in Tally other, int sign)
    {
        Total += sign * other.Total;
        Info += sign * other.Info;
        Warning += sign * other.Warning;
        Critical += sign * other.Critical;
        PolicyViolation += sign * other.PolicyViolation;
        ErrorSpike += sign * other.ErrorSpike;
        SelfHealingAction += sign * other.SelfHealingAction;
    }
}

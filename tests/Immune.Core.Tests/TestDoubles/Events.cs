namespace Immune.Tests.TestDoubles;

internal static class Events
{
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90); // only a hang guard: generous for a machine whose cores are busy

    public static NewImmuneEvent Info(string message = "cache refreshed") => new(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, message);

    public static NewImmuneEvent Warning(string message = "error rate rising") => new(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, message);

    public static NewImmuneEvent Critical(string message = "policy breached") => new(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, message);

    public static async Task<long> Publish(this ImmuneService service, NewImmuneEvent newEvent) => await service.PublishAsync(newEvent);

    public static Task Flushed(this ImmuneService service) => service.FlushAsync().WaitAsync(HangGuard);

    public static void ShouldBeBalanced(this ImmuneDeliveryStats stats)
        => stats.Queued.ShouldBe(stats.Delivered + stats.Failed + stats.Dropped + stats.Pending, stats.ToString());
}

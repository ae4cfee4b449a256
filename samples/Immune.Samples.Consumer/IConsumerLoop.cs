namespace Immune.Samples.Consumer;

/// <summary>Something the consumer host runs for its whole life: the group's consumer, or the fleet feed, of either broker.</summary>
public interface IConsumerLoop
{
    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled; failures are logged and retried, never thrown.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}

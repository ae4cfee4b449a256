namespace Immune.Delivery;

/// <summary>
/// What the delivery pipeline reads from <see cref="ImmuneOptions"/>, copied once at construction: the pipeline and its
/// parts never hold the options themselves.
/// </summary>
internal readonly record struct DeliverySettings(
    string Source,
    int QueueCapacity,
    int MaxBatchSize,
    bool Inline,
    TimeSpan PublishTimeout,
    TimeSpan DeliveryTimeout,
    int DeliveryAttempts,
    TimeSpan RetryDelay,
    TimeSpan MaxRetryDelay,
    TimeSpan ShutdownTimeout)
{
    /// <summary>Copies the settings out of validated options.</summary>
    public static DeliverySettings Of(ImmuneOptions options) => new(
        options.Source,
        options.QueueCapacity,
        options.MaxBatchSize,
        options.Delivery == ImmuneDelivery.Inline,
        options.PublishTimeout,
        options.DeliveryTimeout,
        options.DeliveryAttempts,
        options.RetryDelay,
        options.MaxRetryDelay,
        options.ShutdownTimeout);
}

using System.Diagnostics;

namespace Immune.Delivery;

/// <summary>Where a <see cref="DeliveryIntake"/> queues its envelopes and is announced: the pipeline.</summary>
internal interface IIntakeSink
{
    /// <summary>Queues the envelopes of one recorded change (see <see cref="DeliveryIntake.Enqueue"/>); the caller holds the service's lock.</summary>
    void Enqueue(ref DeliveryIntake intake, EnvelopeKind kind, ImmuneEvent source, DateTimeOffset timestamp, ImmuneSeverity previous, ActivityTraceId correlation, bool critical);

    /// <summary>Announces an intake once its caller holds no lock (see <see cref="DeliveryIntake.Dispose"/>).</summary>
    void Announce(in DeliveryIntake intake);
}

using Immune.Delivery;

namespace Immune.Tests.Delivery;

/// <summary>The one table of envelope kinds and wire types, and the tables of outcomes: each throws on what it does not know.</summary>
public sealed class EnvelopeKindsTests
{
    [Fact]
    public void TypeOfAndOf_EveryKind_RoundTripsThroughItsWireType()
    {
        foreach (EnvelopeKind kind in Enum.GetValues<EnvelopeKind>())
        {
            EnvelopeKinds.Of(EnvelopeKinds.TypeOf(kind)).ShouldBe(kind);
        }

        Enum.GetValues<EnvelopeKind>().Select(EnvelopeKinds.TypeOf).ShouldBe(
            [ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent, ImmuneEventTypes.SeverityChanged, ImmuneEventTypes.EventRepeated]);
    }

    [Fact]
    public void TypeOfAndOf_Unknown_Throw()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => EnvelopeKinds.TypeOf((EnvelopeKind)9));
        Should.Throw<ArgumentOutOfRangeException>(() => EnvelopeKinds.Of("immune.unknown"));
    }

    [Fact]
    public void ReasonsAndTally_EveryOutcome_HaveTheirPlaceAndAnUnknownOneThrows()
    {
        var tally = default(DeliveryTally);
        foreach (Outcome outcome in Enum.GetValues<Outcome>())
        {
            Reasons.Of(outcome).ShouldNotBeNullOrEmpty();
            tally.Add(outcome);
        }

        (tally.Delivered, tally.FailedTimeout, tally.FailedStreamError, tally.DroppedShutdown).ShouldBe((1L, 1L, 1L, 1L));
        Should.Throw<ArgumentOutOfRangeException>(() => Reasons.Of((Outcome)9));
        Should.Throw<ArgumentOutOfRangeException>(() => tally.Add((Outcome)9));
    }
}

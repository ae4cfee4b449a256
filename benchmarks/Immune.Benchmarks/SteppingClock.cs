namespace Immune.Benchmarks;

/// <summary>A clock the setup moves by hand, so a million events span a known time.</summary>
internal sealed class SteppingClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public void Step(TimeSpan by) => _now += by;

    public override DateTimeOffset GetUtcNow() => _now;
}

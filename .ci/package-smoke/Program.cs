// Uses Immune only through its packages, as DESIGN.md describes it; exits non-zero on the first broken promise.
using Immune;
using Immune.PackageSmoke;
using Microsoft.Extensions.Time.Testing;

var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
var stream = new InMemoryEventStream();
await using ServiceProvider provider = new ServiceCollection()
    .AddSingleton<IEventStream>(stream)
    .AddSingleton<TimeProvider>(time)
    .AddImmune(o => o.Source = "smoke")
    .AddImmune()
    .BuildServiceProvider();
var immune = provider.GetRequiredService<IImmuneService>();
var service = provider.GetRequiredService<ImmuneService>();
Check(ReferenceEquals(immune, service), "one singleton behind both types");

long id = await immune.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "smoke") { AgentId = "a", Meta = new Dictionary<string, object?> { ["n"] = 1 } });
await service.FlushAsync(); // delivered before the clock jumps past the envelopes' two-minute delivery timeout
time.Advance(TimeSpan.FromMinutes(61));
await immune.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "later"));
await service.FlushAsync();

Check(id == 1, "ids start at 1");
Check(stream.Envelopes.Select(e => e.Type).SequenceEqual([ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent, ImmuneEventTypes.EventPublished]), "envelopes in order");
EventEnvelope first = stream.Envelopes[0];
Check(first.Source == "smoke" && first.Target is null && first.Meta.Version == "1.0" && first.Id.StartsWith("evt_immune_", StringComparison.Ordinal), "charter fields");
Check(first.Meta.CorrelationId == stream.Envelopes[1].Meta.CorrelationId, "one correlation id per event");
string json = ImmuneJson.Serialize(first);
Check(json.Contains("\"event_id\":1", StringComparison.Ordinal) && json.Contains("\"severity\":\"CRITICAL\"", StringComparison.Ordinal) && json.Contains("\"target\":null", StringComparison.Ordinal), "wire format");
Check(ImmuneJson.Serialize(ImmuneJson.DeserializeEnvelope(json)) == json, "wire format round trip");

ImmuneHealthSummary summary = immune.GetHealthSummary();
Check(summary.Status == ImmuneHealthStatus.Degraded && summary.ActiveIssues == 1 && summary.CriticalIssues == 0, "summary window under a fake clock");
Check(await immune.ChangeSeverityAsync(2, ImmuneSeverity.Critical) && immune.GetHealthSummary().CriticalIssues == 1, "severity change");

try
{
    await immune.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, " "));
    Check(false, "blank message rejected");
}
catch (ArgumentException e) when (e.ParamName == "Message")
{
}

try
{
    new ServiceCollection().AddImmune(o => o.QueueCapacity = 0);
    Check(false, "invalid options rejected");
}
catch (ArgumentException e) when (e.Message.Contains("QueueCapacity", StringComparison.Ordinal))
{
}

// Storm folding: identical publishes fold into one event, reported once its window closes.
var foldStream = new InMemoryEventStream();
await using (var folding = new ImmuneService(foldStream, new ImmuneOptions { FoldWindow = TimeSpan.FromSeconds(10) }, timeProvider: time))
{
    long stormId = await folding.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.ErrorSpike, "storm"));
    Check(await folding.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.ErrorSpike, "storm")) == stormId, "a repeat folds");
    time.Advance(TimeSpan.FromSeconds(10));
    await folding.FlushAsync();
    Check(foldStream.Envelopes.Last().Payload is ImmuneEventRepeatedPayload { Occurrences: 2 }, "repeat report");
}

// The fleet view, fed the envelopes written so far (each twice: redelivery counts once).
var fleet = new ImmuneFleetView(timeProvider: time);
foreach (EventEnvelope envelope in stream.Envelopes.Concat(stream.Envelopes).Concat(foldStream.Envelopes))
{
    fleet.Apply(ImmuneJson.DeserializeEnvelope(ImmuneJson.SerializeToUtf8Bytes(envelope)));
}

ImmuneFleetSummary fleetSummary = fleet.GetHealthSummary(TimeSpan.FromDays(1));
Check(fleetSummary.ActiveIssues == 3 && fleetSummary.Sources.Count == 2, "fleet view");

// A producer with the Redis transport and the health check, and a fleet host with MapImmuneFleet(), on real ports,
// from the packages alone. No broker runs here: the producer holds its envelopes, the host says it is not live.
await PackagedHosts.ProducerAsync(Check);
await PackagedHosts.FleetHostAsync(Check);

Console.WriteLine("package smoke test passed");

static void Check(bool condition, string what)
{
    if (!condition)
    {
        Console.Error.WriteLine($"package smoke test FAILED: {what}");
        Environment.Exit(1);
    }
}

using System.Globalization;
using Immune;

// An in-process stream: the same seam a host implements over Kafka, Redis Streams or NATS.
// FoldWindow: identical publishes within a second of the first fold into it (a storm becomes one event).
var stream = new InMemoryEventStream();
var immune = new ImmuneService(stream, new ImmuneOptions { FoldWindow = TimeSpan.FromSeconds(1) });

await immune.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, "Worker pool recycled")
{
    AgentId = "agent-7",
    Module = "scheduler",
});
await immune.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "5xx rate above 2%")
{
    Module = "api",
    Meta = new Dictionary<string, object?> { ["rate"] = 0.034, ["window"] = "5m" },
});
long critical = await immune.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "Token reused from two countries")
{
    AgentId = "auth-gateway",
    Meta = new Dictionary<string, object?> { ["countries"] = new[] { "DE", "BR" } },
});
for (int i = 0; i < 5; i++)
{
    await immune.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, $"Burst event {i + 1}") { Module = "burst" });
}

// A storm: the database refuses 10,000 connections in a row. Each publish returns the same id; one event is recorded.
var ids = new HashSet<long>();
for (int i = 0; i < 10_000; i++)
{
    ids.Add(await immune.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "Database refused the connection") { Module = "orders-db" }));
}

// Disposal publishes the storm's immune.event_repeated report (occurrences: 10000), then drains the queue.
await immune.DisposeAsync();
foreach (EventEnvelope envelope in stream.Envelopes)
{
    Console.WriteLine(ImmuneJson.Serialize(envelope));
}

ImmuneHealthSummary summary = immune.GetHealthSummary();
ImmuneDeliveryStats stats = immune.GetDeliveryStats();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"health: {summary.Status}, {summary.ActiveIssues} active ({summary.Occurrences} occurrences), {summary.CriticalIssues} critical (event {critical}), last {summary.LastEvents.Count} events over {summary.Window}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"storm: 10000 publishes folded into {ids.Count} event"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"delivery: {stats.Queued} queued, {stats.Delivered} delivered, {stats.Failed} failed, {stats.Dropped} dropped, {stats.Pending} pending"));

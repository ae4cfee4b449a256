using System.Globalization;
using Immune;

// An in-process stream: the same seam a host implements over Kafka, Redis Streams or NATS.
var stream = new InMemoryEventStream();
await using var immune = new ImmuneService(stream);

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

// Background delivery: wait until everything queued so far reached the stream.
await immune.FlushAsync();
foreach (EventEnvelope envelope in stream.Envelopes)
{
    Console.WriteLine(ImmuneJson.Serialize(envelope));
}

ImmuneHealthSummary summary = immune.GetHealthSummary();
ImmuneDeliveryStats stats = immune.GetDeliveryStats();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"health: {summary.Status}, {summary.ActiveIssues} active, {summary.CriticalIssues} critical (event {critical}), last {summary.LastEvents.Count} events over {summary.Window}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"delivery: {stats.Queued} queued, {stats.Delivered} delivered, {stats.Failed} failed, {stats.Dropped} dropped, {stats.Pending} pending"));

using Immune.Samples.Consumer;
using Immune.Samples.Redis;
using StackExchange.Redis;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
string redis = builder.Configuration.GetConnectionString("Redis") ?? "localhost:6379";
builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(RedisStreamEventStream.ConnectionOptions(redis)));
builder.Services.AddSingleton(new ImmuneStreamConsumerOptions());
builder.Services.AddSingleton<IOnCallPager, LoggingPager>();
builder.Services.AddSingleton<ImmuneStreamConsumer>();
builder.Services.AddHostedService<ConsumerWorker>();
await builder.Build().RunAsync();

/// <summary>Runs the consumer for the life of the host.</summary>
internal sealed class ConsumerWorker(ImmuneStreamConsumer consumer) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => consumer.RunAsync(stoppingToken);
}

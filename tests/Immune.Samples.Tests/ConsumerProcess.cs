namespace Immune.Samples.Tests;

/// <summary>
/// The consumer sample as its own process (<c>dotnet Immune.Samples.Consumer.dll</c>, built beside the tests) on
/// 127.0.0.1 and a free port, configured through its environment as in production: several of them are several
/// hosts, each with its own meters, as Prometheus scrapes them.
/// </summary>
internal sealed class ConsumerProcess : ServerProcess
{
    private readonly Dictionary<string, string> _environment;

    private ConsumerProcess(int port, Dictionary<string, string> environment)
        : base(port) => _environment = environment;

    public string Url => $"http://127.0.0.1:{Port}";

    public static async Task<ConsumerProcess> StartAsync(params (string Name, string Value)[] environment)
    {
        var process = new ConsumerProcess(FreePort(), environment.ToDictionary(e => e.Name, e => e.Value));
        await process.RestartAsync();
        return process;
    }

    public override Task RestartAsync()
    {
        string dll = Path.Combine(AppContext.BaseDirectory.Replace("Immune.Samples.Tests", "Immune.Samples.Consumer", StringComparison.Ordinal), "Immune.Samples.Consumer.dll");
        var environment = new Dictionary<string, string>(_environment)
        {
            ["ASPNETCORE_URLS"] = Url,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        return StartAsync(Environment.ProcessPath is { } dotnet && Path.GetFileNameWithoutExtension(dotnet) == "dotnet" ? dotnet : "dotnet", [dll], "Now listening on", "dotnet-sdk", environment);
    }
}

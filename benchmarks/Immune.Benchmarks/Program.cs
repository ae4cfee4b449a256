using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/Immune.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

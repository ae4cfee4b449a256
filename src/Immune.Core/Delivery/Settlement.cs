namespace Immune.Delivery;

/// <summary>An envelope's final result: its outcome, the attempts it took, the last error and the time from the first attempt.</summary>
internal readonly record struct Settlement(Outcome Outcome, int Attempts, Exception? Exception, TimeSpan Duration);

namespace Immune.Delivery;

/// <summary>One attempt's end, with what the stream threw (or the timeout) when it failed.</summary>
internal readonly record struct Attempt(Outcome Outcome, Exception? Exception);

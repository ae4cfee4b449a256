using Microsoft.Extensions.Logging;

namespace Immune.Tests.TestDoubles;

/// <summary>A logger provider that fails on every call, as one writing to a full disk does.</summary>
internal sealed class ThrowingLogger<T> : ILogger<T>
{
    public int Calls => Volatile.Read(ref _calls);

    private int _calls;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => throw new IOException("disk full");

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Interlocked.Increment(ref _calls);
        throw new IOException("disk full");
    }
}

/// <summary>An ordinary formatting logger, as the console's: it formats the message and the exception's text.</summary>
internal sealed class FormattingLogger<T> : ILogger<T>
{
    private int _written;

    public int Written => Volatile.Read(ref _written);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string text = formatter(state, exception) + (exception is null ? "" : Environment.NewLine + exception);
        if (text.Length > 0)
        {
            Interlocked.Increment(ref _written);
        }
    }
}

/// <summary>An exception whose every text throws while it is being formatted.</summary>
internal sealed class PoisonedException(string part) : Exception
{
    public override string Message => part == nameof(Message) ? throw new InvalidOperationException("Message getter") : "poisoned";

    public override string? StackTrace => part == nameof(StackTrace) ? throw new InvalidOperationException("StackTrace getter") : null;

    public override string ToString() => part == nameof(ToString) ? throw new InvalidOperationException("ToString") : base.ToString();
}

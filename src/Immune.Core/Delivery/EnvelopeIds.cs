using System.Globalization;
using System.Security.Cryptography;

namespace Immune.Delivery;

/// <summary>
/// Envelope ids: <c>evt_immune_&lt;unix ms&gt;_&lt;16 hex digits&gt;</c>. The hex part is a bijective mix (SplitMix64) of a
/// random per-process seed plus a counter: it never repeats within a process (distinct counters give distinct
/// outputs) and carries 64 unpredictable bits across processes, without a random-number call per envelope.
/// </summary>
internal static class EnvelopeIds
{
    private const string Prefix = "evt_immune_";
    private static readonly ulong Seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
    private static long s_counter;

    public static string Next(DateTimeOffset timestamp)
    {
        ulong unique = Mix(Seed + ((ulong)Interlocked.Increment(ref s_counter) * 0x9E3779B97F4A7C15UL));
        long milliseconds = timestamp.ToUnixTimeMilliseconds();
        return string.Create(CultureInfo.InvariantCulture, $"{Prefix}{milliseconds}_{unique:x16}");
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

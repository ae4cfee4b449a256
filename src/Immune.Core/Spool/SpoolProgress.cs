using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Immune.Spool;

/// <summary>
/// The spool's progress file: <c>[i64 run][i64 settled-through sequence][u32 CRC-32C]</c>, replaced whole (temporary
/// file, fsync, rename), so it is either the old or the new one. Without a trustworthy one, recovery replays
/// everything (at-least-once).
/// </summary>
internal static class SpoolProgress
{
    private const string Name = "progress";

    /// <summary>Records that in run <paramref name="run"/> every sequence up to <paramref name="settledThrough"/> is settled.</summary>
    public static void Write(string directory, long run, long settledThrough)
    {
        Span<byte> data = stackalloc byte[20];
        BinaryPrimitives.WriteInt64LittleEndian(data, run);
        BinaryPrimitives.WriteInt64LittleEndian(data[8..], settledThrough);
        BinaryPrimitives.WriteUInt32LittleEndian(data[16..], SpoolRecord.Crc32C(data[..16]));
        string temporary = Path.Combine(directory, Name + ".tmp");
        using (SafeFileHandle handle = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write))
        {
            RandomAccess.Write(handle, data, 0);
            RandomAccess.FlushToDisk(handle);
        }

        File.Move(temporary, Path.Combine(directory, Name), overwrite: true);
    }

    /// <summary>Reads the progress; (<see cref="long.MinValue"/>, <see cref="long.MinValue"/>) when there is none to trust.</summary>
    public static (long Run, long SettledThrough) Read(string directory)
    {
        try
        {
            byte[] data = File.ReadAllBytes(Path.Combine(directory, Name));
            if (data.Length == 20 && SpoolRecord.Crc32C(data.AsSpan(0, 16)) == BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(16)))
            {
                return (BinaryPrimitives.ReadInt64LittleEndian(data), BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(8)));
            }
        }
        catch (FileNotFoundException)
        {
        }

        return (long.MinValue, long.MinValue);
    }
}

using System.Buffers.Binary;
using System.Numerics;

namespace Immune.Spool;

/// <summary>
/// One spooled envelope on disk: <c>[u32 length][u32 CRC-32C][i64 sequence][length bytes of ImmuneJson]</c>, little
/// endian, the checksum over the sequence and the JSON. A torn write (a length or body cut short), a zero-filled
/// region (length 0) or a flipped byte (checksum) never reads as a record.
/// </summary>
internal static class SpoolRecord
{
    public const int HeaderSize = 16;

    /// <summary>
    /// The largest payload a record holds: all a length field and an array can, so that any envelope validation
    /// accepts is spooled whole (with the default limits one can serialize to about 25 MB: 1,024 meta strings of 4,096
    /// characters JSON escapes six bytes each). Recovery never trusts a length beyond what the file holds.
    /// </summary>
    public const int MaxPayload = 0x7FFFFFC7 - HeaderSize; // Array.MaxLength

    /// <summary>Gets the bytes of a record for <paramref name="payload"/>.</summary>
    public static byte[] Encode(long sequence, ReadOnlySpan<byte> payload)
    {
        var record = new byte[HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(8), sequence);
        payload.CopyTo(record.AsSpan(HeaderSize));
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), Crc32C(record.AsSpan(8)));
        return record;
    }

    /// <summary>Reads the record at the start of <paramref name="data"/>; false when there is none whole and intact there.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> data, out long sequence, out ReadOnlySpan<byte> payload, out int size)
    {
        sequence = 0;
        payload = default;
        size = 0;
        if (data.Length < HeaderSize)
        {
            return false;
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (length < 2 || length > MaxPayload || data.Length - HeaderSize < length)
        {
            return false;
        }

        ReadOnlySpan<byte> body = data.Slice(8, 8 + (int)length);
        if (Crc32C(body) != BinaryPrimitives.ReadUInt32LittleEndian(data[4..]))
        {
            return false;
        }

        sequence = BinaryPrimitives.ReadInt64LittleEndian(body);
        payload = body[8..];
        size = HeaderSize + (int)length;
        return true;
    }

    /// <summary>CRC-32C (Castagnoli), with the processor's instruction where it has one.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        while (data.Length >= sizeof(ulong))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }

        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}

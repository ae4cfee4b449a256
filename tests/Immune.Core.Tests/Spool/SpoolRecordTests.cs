using System.Text;
using Immune.Spool;

namespace Immune.Tests.Spool;

public sealed class SpoolRecordTests
{
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("""{"id":"evt_immune_1_0000000000000001","type":"immune.event_published"}""");

    [Fact]
    public void Encode_ThenDecode_GivesTheSequenceAndPayloadBack()
    {
        byte[] record = SpoolRecord.Encode(42, Payload);

        SpoolRecord.TryDecode(record, out long sequence, out ReadOnlySpan<byte> payload, out int size).ShouldBeTrue();

        sequence.ShouldBe(42);
        payload.ToArray().ShouldBe(Payload);
        size.ShouldBe(record.Length);
    }

    [Fact]
    public void TryDecode_EveryTruncation_IsNoRecord()
    {
        byte[] record = SpoolRecord.Encode(7, Payload);
        for (int length = 0; length < record.Length; length++)
        {
            SpoolRecord.TryDecode(record.AsSpan(0, length), out _, out _, out _).ShouldBeFalse($"cut at {length}");
        }
    }

    [Fact]
    public void TryDecode_EveryByteFlipped_IsNoRecord()
    {
        byte[] record = SpoolRecord.Encode(7, Payload);
        for (int at = 0; at < record.Length; at++)
        {
            foreach (byte mask in new byte[] { 0x01, 0x80, 0xFF })
            {
                byte[] damaged = (byte[])record.Clone();
                damaged[at] ^= mask;
                SpoolRecord.TryDecode(damaged, out _, out _, out _).ShouldBeFalse($"byte {at} ^ {mask}");
            }
        }
    }

    [Fact]
    public void TryDecode_ZeroFilledRegion_IsNoRecord()
    {
        SpoolRecord.TryDecode(new byte[4096], out _, out _, out _).ShouldBeFalse();
    }

    [Fact]
    public void Crc32C_KnownVector()
    {
        SpoolRecord.Crc32C("123456789"u8).ShouldBe(0xE3069283u); // the check value of CRC-32C
    }
}

using Microsoft.Win32.SafeHandles;

namespace Immune.Spool;

/// <summary>One segment file of the spool, open for reading and writing until it is deleted or the spool closes.</summary>
internal sealed class SpoolSegment(long number, SafeFileHandle handle)
{
    public long Number { get; } = number;

    public SafeFileHandle? Handle { get; private set; } = handle;

    /// <summary>Gets or sets how many bytes were written to it.</summary>
    public long Length { get; set; }

    /// <summary>Gets or sets the sequence of the last record written to it; null while empty.</summary>
    public long? LastSequence { get; set; }

    public void Close()
    {
        Handle?.Dispose();
        Handle = null;
    }
}

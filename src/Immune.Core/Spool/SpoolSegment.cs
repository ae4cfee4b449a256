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

    /// <summary>Cuts what a refused write may have left past the last whole record, so that a later one follows it directly.</summary>
    public void CutTornTail()
    {
        try
        {
            if (Handle is { } handle)
            {
                RandomAccess.SetLength(handle, Length);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // A tail left there is cut off by recovery as damage, never replayed; the next write overwrites it anyway.
        }
    }

    public void Close()
    {
        Handle?.Dispose();
        Handle = null;
    }
}

namespace Immune.Spool;

/// <summary>What a previous owner of the directory left: its segment files, in writing order, and its progress.</summary>
internal sealed class PreviousRun
{
    private readonly List<string> _files = [];
    private readonly (long Run, long SettledThrough) _progress;

    private PreviousRun(string directory) => _progress = SpoolProgress.Read(directory);

    /// <summary>Gets the number after the highest segment found: this owner's run starts there.</summary>
    public long NextSegment { get; private set; }

    /// <summary>Finds the segment files named <c>&lt;run&gt;-&lt;number&gt;&lt;suffix&gt;</c> in <paramref name="directory"/>.</summary>
    public static PreviousRun Find(string directory, string suffix)
    {
        var previous = new PreviousRun(directory);
        string[] files = Directory.GetFiles(directory, "*" + suffix);
        Array.Sort(files, StringComparer.Ordinal);
        foreach (string file in files)
        {
            string[] name = Path.GetFileNameWithoutExtension(file).Split('-');
            if (name.Length == 2 && long.TryParse(name[0], out _) && long.TryParse(name[1], out long number))
            {
                previous.NextSegment = Math.Max(previous.NextSegment, number + 1);
                previous._files.Add(file);
            }
        }

        return previous;
    }

    /// <summary>
    /// Hands every intact record left unsettled to <paramref name="replay"/>, oldest first, one file in memory at a time
    /// (so a backlog of any size streams through); cuts a damaged file at its damage and moves it aside. The intact
    /// files read go to <paramref name="read"/>: they may be deleted once their records are written again. Once only.
    /// </summary>
    public SpoolRecovery Replay(Action<EventEnvelope> replay, Action<string> read)
    {
        long replayed = 0;
        int damagedRegions = 0;
        var movedAside = new List<string>();
        foreach (string file in _files)
        {
            long run = long.Parse(Path.GetFileNameWithoutExtension(file).Split('-')[0], System.Globalization.CultureInfo.InvariantCulture);
            byte[] data = File.ReadAllBytes(file);
            int offset = 0;
            bool damaged = false;
            while (offset < data.Length)
            {
                if (!SpoolRecord.TryDecode(data.AsSpan(offset), out long sequence, out ReadOnlySpan<byte> payload, out int size))
                {
                    damaged = true; // a torn tail, zeroes or a flipped byte: nothing after it can be trusted
                    break;
                }

                offset += size;
                if (run == _progress.Run && sequence <= _progress.SettledThrough)
                {
                    continue; // settled before the previous owner stopped
                }

                EventEnvelope envelope;
                try
                {
                    envelope = ImmuneJson.DeserializeEnvelope(payload);
                }
                catch (System.Text.Json.JsonException)
                {
                    damaged = true; // intact framing around a document that is not an envelope: never replayed
                    continue;
                }

                replay(envelope);
                replayed++;
            }

            if (damaged)
            {
                damagedRegions++;
                string aside = $"{file}.damaged";
                File.Move(file, aside, overwrite: true);
                movedAside.Add(aside);
            }
            else
            {
                read(file);
            }
        }

        _files.Clear();
        return new SpoolRecovery(replayed, damagedRegions, movedAside);
    }
}

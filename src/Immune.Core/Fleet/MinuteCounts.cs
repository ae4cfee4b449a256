namespace Immune.Fleet;

/// <summary>
/// The events recorded in each clock minute of the last day, by their severity at publication, kept as the publications
/// apply: a chart of them costs the minutes it shows, whatever the fleet's size, and a storm that was resolved still shows
/// as what it was. Publications older than a day are not kept. Not thread-safe: the view guards it with its lock.
/// </summary>
internal sealed class MinuteCounts
{
    /// <summary>How many minutes are kept: a day and one.</summary>
    public const int Minutes = 1441;

    private readonly long[] _minute = new long[Minutes]; // which minute (since year 1) each slot counts; 0 when none
    private readonly int[,] _counts = new int[Minutes, 3];

    /// <summary>Counts an event recorded at <paramref name="recordedTicks"/> with <paramref name="severity"/>, unless it is older than what is kept as of <paramref name="now"/>.</summary>
    public void Count(long recordedTicks, ImmuneSeverity severity, DateTimeOffset now)
    {
        long minute = recordedTicks / TimeSpan.TicksPerMinute;
        long current = now.UtcTicks / TimeSpan.TicksPerMinute;
        if (minute <= current - Minutes || minute < 1)
        {
            return;
        }

        int slot = (int)(minute % Minutes);
        if (_minute[slot] != minute)
        {
            if (_minute[slot] > minute)
            {
                return; // its slot counts a later minute already: older than a day as of then
            }

            _minute[slot] = minute;
            _counts[slot, 0] = _counts[slot, 1] = _counts[slot, 2] = 0;
        }

        _counts[slot, (int)severity]++;
    }

    /// <summary>Gets the counts of the last <paramref name="minutes"/> clock minutes as of <paramref name="now"/>, the current (partial) one last.</summary>
    public ImmuneFleetMinute[] Last(int minutes, DateTimeOffset now)
    {
        long current = now.UtcTicks / TimeSpan.TicksPerMinute;
        var result = new ImmuneFleetMinute[minutes];
        for (int k = 0; k < minutes; k++)
        {
            long minute = current - (minutes - 1) + k;
            int slot = (int)(((minute % Minutes) + Minutes) % Minutes);
            bool counted = minute > 0 && _minute[slot] == minute;
            result[k] = new ImmuneFleetMinute
            {
                Start = new DateTimeOffset(Math.Max(0, minute) * TimeSpan.TicksPerMinute, TimeSpan.Zero),
                Info = counted ? _counts[slot, 0] : 0,
                Warning = counted ? _counts[slot, 1] : 0,
                Critical = counted ? _counts[slot, 2] : 0,
            };
        }

        return result;
    }
}

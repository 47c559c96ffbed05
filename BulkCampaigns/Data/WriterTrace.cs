using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace BulkCampaigns.Data;

/// <summary>
/// Where the single writer's time goes, per statement: set <c>BULKCAMPAIGNS_WRITER_TRACE=1</c> and the totals (ms,
/// calls, rows) are printed to stderr every 2 s while they change. Off, a step costs one static read. It exists because
/// the writer is the engine's bottleneck and its cost per message has to be measured, not guessed.
/// </summary>
public static class WriterTrace
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("BULKCAMPAIGNS_WRITER_TRACE") is "1" or "true";

    private static readonly ConcurrentDictionary<string, Totals> Steps = new();
    private static Timer? _printer;
    private static long _printedVersion;
    private static long _version;

    internal sealed class Totals
    {
        public long Ticks;
        public long Calls;
        public long Rows;
    }

    /// <summary>Times the statement until disposed; the rows it touched can be told through <see cref="Span.Count"/>.</summary>
    public static Span Step(string name) => Enabled ? new Span(Steps.GetOrAdd(name, _ => new Totals()), Stopwatch.GetTimestamp()) : default;

    public readonly struct Span : IDisposable
    {
        private readonly Totals? _totals;
        private readonly long _started;

        internal Span(Totals totals, long started)
        {
            _totals = totals;
            _started = started;
        }

        public void Count(long rows)
        {
            if (_totals is not null)
            {
                Interlocked.Add(ref _totals.Rows, rows);
            }
        }

        public void Dispose()
        {
            if (_totals is not { } totals)
            {
                return;
            }
            Interlocked.Add(ref totals.Ticks, Stopwatch.GetTimestamp() - _started);
            Interlocked.Increment(ref totals.Calls);
            Interlocked.Increment(ref _version);
            _printer ??= new Timer(_ => Print(), null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
        }
    }

    private static void Print()
    {
        var version = Interlocked.Read(ref _version);
        if (version == _printedVersion)
        {
            return;
        }
        _printedVersion = version;
        var text = new StringBuilder("writer trace (step: ms total, calls, rows)");
        foreach (var (name, t) in Steps.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  {name,-28} {Stopwatch.GetElapsedTime(0, Interlocked.Read(ref t.Ticks)).TotalMilliseconds,10:F0} ms {Interlocked.Read(ref t.Calls),8} calls {Interlocked.Read(ref t.Rows),10} rows");
        }
        Console.Error.WriteLine(text.ToString());
    }
}

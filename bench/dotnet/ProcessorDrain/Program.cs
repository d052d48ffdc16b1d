using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Messaging.ServiceBus;

// Drains S sessions × E messages with a ServiceBusSessionProcessor set up from host.json's
// extensions.serviceBus the way the Functions Service Bus extension does (complete after the
// handler when autoCompleteMessages), with a handler that does nothing.
// Protocol (stdout, one JSON object a line): {"ready":true} once processing, then one result line per
// burst (the parent publishes burst k+1, with new session ids, after reading result k; the first
// bursts warm the process up, as a long-running Functions host is).
// Usage: ProcessorDrain --connection <cs> --queue <name> --host-json <path> --sessions S --events E [--bursts 1] [--timeout 600]

var options = Args.Parse(args);
var settings = ServiceBusSettings.FromHostJson(options.HostJsonPath);

await using var client = new ServiceBusClient(options.ConnectionString, new ServiceBusClientOptions
{
    TransportType = ServiceBusTransportType.AmqpTcp,
    RetryOptions = settings.Retry,
});
await using var processor = client.CreateSessionProcessor(options.Queue, new ServiceBusSessionProcessorOptions
{
    MaxConcurrentSessions = settings.MaxConcurrentSessions,
    MaxConcurrentCallsPerSession = settings.MaxConcurrentCallsPerSession,
    SessionIdleTimeout = settings.SessionIdleTimeout,
    PrefetchCount = settings.PrefetchCount,
    MaxAutoLockRenewalDuration = settings.MaxAutoLockRenewalDuration,
    // The extension turns the processor's own auto-complete off and completes after the function.
    AutoCompleteMessages = false,
    ReceiveMode = ServiceBusReceiveMode.PeekLock,
});

var finished = new ConcurrentDictionary<string, long>();
var lastSeq = new ConcurrentDictionary<string, int>();
var inFlight = new ConcurrentDictionary<string, int>();
long calls = 0, orderViolations = 0, overlaps = 0, errors = 0, sessionsAccepted = 0;
long lastEndUnixUs = 0;

processor.SessionInitializingAsync += _ => { Interlocked.Increment(ref sessionsAccepted); return Task.CompletedTask; };
processor.ProcessMessageAsync += async args =>
{
    var sessionId = args.SessionId;
    if (inFlight.AddOrUpdate(sessionId, 1, (_, n) => n + 1) > 1) Interlocked.Increment(ref overlaps);
    try
    {
        var seq = SequenceOf(args.Message.MessageId);
        var previous = lastSeq.GetValueOrDefault(sessionId, 0);
        if (seq != previous + 1) Interlocked.Increment(ref orderViolations);
        lastSeq[sessionId] = seq;
        // The null handler: nothing. Its end is what the local host's invocation events report
        // (endedAt), so the drain ends here on both sides; then the extension's auto-complete.
        var endedAt = UnixMicros();
        Interlocked.Increment(ref calls);
        if (settings.AutoComplete) await args.CompleteMessageAsync(args.Message);
        if (seq == options.Events)
        {
            InterlockedMax(ref lastEndUnixUs, endedAt);
            finished[sessionId] = endedAt;
        }
    }
    finally
    {
        inFlight.AddOrUpdate(sessionId, 0, (_, n) => n - 1);
    }
};
processor.ProcessErrorAsync += args =>
{
    Interlocked.Increment(ref errors);
    // Idle-timeout ends and closed links are normal in a session processor; only print the rest.
    if (args.Exception is not ServiceBusException { Reason: ServiceBusFailureReason.ServiceTimeout } and not TaskCanceledException)
        Console.Error.WriteLine($"[processor] {args.ErrorSource} {args.EntityPath}: {args.Exception.GetType().Name}: {args.Exception.Message}");
    return Task.CompletedTask;
};

await processor.StartProcessingAsync();
Console.WriteLine(JsonSerializer.Serialize(new { ready = true, settings = settings.Describe() }));

var deadline = DateTime.UtcNow.AddSeconds(options.TimeoutSeconds);
var drained = true;
long callsBefore = 0, acceptedBefore = 0;
for (var burst = 1; burst <= options.Bursts && drained; burst++)
{
    // The drain's end is the handler's own timestamp (lastEndUnixMs), so polling here adds nothing to it.
    while (finished.Count < burst * options.Sessions && DateTime.UtcNow < deadline) await Task.Delay(2);
    drained = finished.Count >= burst * options.Sessions;
    var callsNow = Interlocked.Read(ref calls);
    var acceptedNow = Interlocked.Read(ref sessionsAccepted);
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        burst,
        drained,
        sessionsFinished = finished.Count - (burst - 1) * options.Sessions,
        lastEndUnixMs = Interlocked.Read(ref lastEndUnixUs) / 1000.0,
        calls = callsNow - callsBefore,
        orderViolations = Interlocked.Read(ref orderViolations),
        overlaps = Interlocked.Read(ref overlaps),
        errors = Interlocked.Read(ref errors),
        sessionsAccepted = acceptedNow - acceptedBefore,
        cpuMs = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds,
    }));
    callsBefore = callsNow;
    acceptedBefore = acceptedNow;
}
await processor.StopProcessingAsync();
return drained ? 0 : 2;

static int SequenceOf(string messageId)
{
    var colon = messageId.LastIndexOf(':');
    if (colon < 0 || !int.TryParse(messageId.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        throw new FormatException($"message id '{messageId}' is not <basket>:<sequence>");
    return seq;
}

static long UnixMicros() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;

static void InterlockedMax(ref long target, long value)
{
    long seen;
    while ((seen = Interlocked.Read(ref target)) < value)
        if (Interlocked.CompareExchange(ref target, value, seen) == seen) return;
}

sealed record Args(string ConnectionString, string Queue, string HostJsonPath, int Sessions, int Events, int Bursts, int TimeoutSeconds)
{
    public static Args Parse(string[] argv)
    {
        var map = new Dictionary<string, string>();
        for (var i = 0; i < argv.Length; i++)
        {
            if (!argv[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= argv.Length)
                throw new ArgumentException($"expected --name value pairs, got '{argv[i]}'");
            map[argv[i][2..]] = argv[++i];
        }
        string Need(string name) => map.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        int Int(string name, string? fallback = null)
        {
            var text = map.TryGetValue(name, out var v) ? v : fallback ?? Need(name);
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n
                : throw new ArgumentException($"--{name} must be a positive whole number, got '{text}'");
        }
        return new Args(Need("connection"), Need("queue"), Need("host-json"), Int("sessions"), Int("events"), Int("bursts", "1"), Int("timeout", "600"));
    }
}

/// <summary>host.json extensions.serviceBus, with the extension's defaults for what is absent.</summary>
sealed record ServiceBusSettings(
    int MaxConcurrentSessions,
    int MaxConcurrentCallsPerSession,
    TimeSpan? SessionIdleTimeout,
    int PrefetchCount,
    bool AutoComplete,
    TimeSpan MaxAutoLockRenewalDuration,
    ServiceBusRetryOptions Retry)
{
    public static ServiceBusSettings FromHostJson(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty");
        var sb = root["extensions"]?["serviceBus"]?.AsObject() ?? new JsonObject();
        JsonNode? Get(JsonObject o, string name) =>
            o.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        TimeSpan? Span(JsonObject o, string name) =>
            Get(o, name) is { } n ? TimeSpan.Parse(n.GetValue<string>(), CultureInfo.InvariantCulture) : null;
        int? Int(JsonObject o, string name) => Get(o, name)?.GetValue<int>();

        var retry = new ServiceBusRetryOptions();
        if (Get(sb, "clientRetryOptions") is JsonObject r)
        {
            if (Get(r, "mode") is { } mode)
                retry.Mode = Enum.Parse<ServiceBusRetryMode>(mode.GetValue<string>(), ignoreCase: true);
            retry.TryTimeout = Span(r, "tryTimeout") ?? retry.TryTimeout;
            retry.Delay = Span(r, "delay") ?? retry.Delay;
            retry.MaxDelay = Span(r, "maxDelay") ?? retry.MaxDelay;
            retry.MaxRetries = Int(r, "maxRetries") ?? retry.MaxRetries;
        }
        return new ServiceBusSettings(
            // Extension defaults: 8 × processors sessions, 1 call per session, prefetch 0, auto-complete on.
            Int(sb, "maxConcurrentSessions") ?? 8 * Environment.ProcessorCount,
            Int(sb, "maxConcurrentCallsPerSession") ?? 1,
            Span(sb, "sessionIdleTimeout"),
            Int(sb, "prefetchCount") ?? 0,
            Get(sb, "autoCompleteMessages")?.GetValue<bool>() ?? true,
            Span(sb, "maxAutoLockRenewalDuration") ?? TimeSpan.FromMinutes(5),
            retry);
    }

    public object Describe() => new
    {
        maxConcurrentSessions = MaxConcurrentSessions,
        maxConcurrentCallsPerSession = MaxConcurrentCallsPerSession,
        sessionIdleTimeoutMs = SessionIdleTimeout?.TotalMilliseconds,
        prefetchCount = PrefetchCount,
        autoComplete = AutoComplete,
    };
}

using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Xunit;

namespace ConvoyEmulator.Tests;

/// <summary>
/// A ServiceBusSessionProcessor set up from the repository's host.json (extensions.serviceBus), the
/// way the Functions host drives the session trigger.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class ProcessorTests(EmulatorFixture emulator)
{
    private sealed record HostSettings(ServiceBusSessionProcessorOptions Options, int MaxConcurrentSessions);

    private HostSettings ReadHostJson()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(emulator.RepoRoot, "host.json")));
        var sb = doc.RootElement.GetProperty("extensions").GetProperty("serviceBus");
        var options = new ServiceBusSessionProcessorOptions
        {
            PrefetchCount = sb.GetProperty("prefetchCount").GetInt32(),
            AutoCompleteMessages = sb.GetProperty("autoCompleteMessages").GetBoolean(),
            MaxConcurrentSessions = sb.GetProperty("maxConcurrentSessions").GetInt32(),
            MaxConcurrentCallsPerSession = sb.GetProperty("maxConcurrentCallsPerSession").GetInt32(),
            SessionIdleTimeout = TimeSpan.Parse(sb.GetProperty("sessionIdleTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            MaxAutoLockRenewalDuration = TimeSpan.Parse(sb.GetProperty("maxAutoLockRenewalDuration").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
        };
        return new HostSettings(options, options.MaxConcurrentSessions);
    }

    [Fact]
    public async Task SessionProcessorFromHostJsonDeliversEverythingOnceInOrderWithoutOverlap()
    {
        var settings = ReadHostJson();
        Assert.Equal(1, settings.Options.MaxConcurrentCallsPerSession);
        // More sessions than the processor may hold at once, so sessions must be released and re-taken.
        var sessions = settings.MaxConcurrentSessions * 2;
        const int perSession = 12;
        await using (var sender = emulator.Client.CreateSender("processor"))
        {
            for (var i = 0; i < perSession; i++)
            {
                using var batch = await sender.CreateMessageBatchAsync();
                for (var s = 0; s < sessions; s++)
                    Assert.True(batch.TryAddMessage(new ServiceBusMessage($"{i}") { SessionId = $"p-{s}", MessageId = $"p-{s}-{i}" }));
                await sender.SendMessagesAsync(batch);
            }
        }

        var received = new ConcurrentDictionary<string, List<int>>();
        var inFlight = new ConcurrentDictionary<string, int>();
        var overlaps = new ConcurrentBag<string>();
        var deliveryCounts = new ConcurrentBag<int>();
        var errors = new ConcurrentBag<string>();
        var openSessions = 0;
        var maxOpenSessions = 0;
        var total = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await using var processor = emulator.Client.CreateSessionProcessor("processor", settings.Options);
        processor.SessionInitializingAsync += _ =>
        {
            var now = Interlocked.Increment(ref openSessions);
            int seen;
            while (now > (seen = Volatile.Read(ref maxOpenSessions)) && Interlocked.CompareExchange(ref maxOpenSessions, now, seen) != seen) { }
            return Task.CompletedTask;
        };
        processor.SessionClosingAsync += _ =>
        {
            Interlocked.Decrement(ref openSessions);
            return Task.CompletedTask;
        };
        processor.ProcessMessageAsync += async args =>
        {
            var session = args.SessionId;
            if (inFlight.AddOrUpdate(session, 1, (_, n) => n + 1) > 1) overlaps.Add(session);
            await Task.Delay(Random.Shared.Next(0, 3));
            lock (received) received.GetOrAdd(session, _ => new List<int>()).Add(int.Parse(args.Message.Body.ToString()));
            deliveryCounts.Add(args.Message.DeliveryCount);
            inFlight.AddOrUpdate(session, 0, (_, n) => n - 1);
            if (Interlocked.Increment(ref total) == sessions * perSession) done.TrySetResult();
        };
        processor.ProcessErrorAsync += args =>
        {
            errors.Add($"{args.ErrorSource}: {args.Exception.GetType().Name} {args.Exception.Message}");
            return Task.CompletedTask;
        };

        await processor.StartProcessingAsync();
        var finished = await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(45)));
        // Let auto-complete of the last messages and any stray redelivery happen before looking.
        await Task.Delay(500);
        await processor.StopProcessingAsync();

        Assert.True(finished == done.Task, $"processed {total} of {sessions * perSession}; errors: {string.Join("; ", errors.Take(5))}");
        Assert.Empty(overlaps);
        Assert.Equal(sessions * perSession, Volatile.Read(ref total));
        Assert.Equal(sessions, received.Count);
        foreach (var (session, bodies) in received)
            Assert.True(Enumerable.Range(0, perSession).SequenceEqual(bodies), $"{session}: {string.Join(",", bodies)}");
        Assert.InRange(maxOpenSessions, 1, settings.MaxConcurrentSessions);
        // Nothing was abandoned or redelivered: every message came on its first delivery.
        Assert.All(deliveryCounts, count => Assert.Equal(1, count));

        // Everything was completed: no session with messages is left.
        await using var client = new ServiceBusClient(emulator.ConnectionString, EmulatorFixture.FastOptions(TimeSpan.FromSeconds(2)));
        var leftover = await Assert.ThrowsAsync<ServiceBusException>(async () => await client.AcceptNextSessionAsync("processor"));
        Assert.Equal(ServiceBusFailureReason.ServiceTimeout, leftover.Reason);
    }
}

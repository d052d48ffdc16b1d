using Azure.Messaging.ServiceBus;
using Xunit;

namespace ConvoyEmulator.Tests;

/// <summary>Send, receive and settle with the .NET client, on non-session queues.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class MessagingTests(EmulatorFixture emulator)
{
    private readonly ServiceBusClient _client = emulator.Client;

    /// <summary>One value of each type the .NET client maps to an AMQP primitive or a described type.</summary>
    private static Dictionary<string, object> TypedProperties(int n) => new()
    {
        ["int"] = -42 - n,
        ["bigInt"] = 70_000,
        ["long"] = 7L,
        ["bigLong"] = 9_007_199_254_740_993L,
        ["double"] = 2.0,
        ["fraction"] = 2.5,
        ["float"] = 1.5f,
        ["bool"] = true,
        ["string"] = "text",
        ["guid"] = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"),
        ["byte"] = (byte)9,
        ["sbyte"] = (sbyte)-9,
        ["short"] = (short)-300,
        ["ushort"] = (ushort)300,
        ["uint"] = 3_000_000_000u,
        ["ulong"] = 5UL,
        ["char"] = 'c',
        ["dateTime"] = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
        ["dateTimeOffset"] = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
        ["timeSpan"] = TimeSpan.FromSeconds(90),
        ["uri"] = new Uri("https://example.invalid/x"),
    };

    private static void AssertSameTypedProperties(IReadOnlyDictionary<string, object> expected, IReadOnlyDictionary<string, object> actual)
    {
        foreach (var (key, value) in expected)
        {
            Assert.True(actual.ContainsKey(key), $"property '{key}' is missing");
            Assert.Equal(value.GetType(), actual[key].GetType());
            Assert.Equal(value, actual[key]);
        }
    }

    private static ServiceBusMessage Typed(int n)
    {
        var message = new ServiceBusMessage(BinaryData.FromString($"typed-{n}"))
        {
            MessageId = $"typed-{n}",
            CorrelationId = $"corr-{n}",
            Subject = "subject",
            ContentType = "text/plain",
            To = "to",
            ReplyTo = "reply",
            TimeToLive = TimeSpan.FromMinutes(5),
        };
        foreach (var (key, value) in TypedProperties(n)) message.ApplicationProperties[key] = value;
        return message;
    }

    [Fact]
    public async Task TypedPropertiesRoundTripForSingleAndBatchedSendsAndThroughTheDeadLetterQueue()
    {
        await using var sender = _client.CreateSender("typed");
        await sender.SendMessageAsync(Typed(0));
        using var batch = await sender.CreateMessageBatchAsync();
        Assert.True(batch.TryAddMessage(Typed(1)));
        Assert.True(batch.TryAddMessage(Typed(2)));
        await sender.SendMessagesAsync(batch);

        await using var receiver = _client.CreateReceiver("typed");
        var received = await ReceiveAsync(receiver, 3);
        Assert.Equal(new[] { "typed-0", "typed-1", "typed-2" }, received.Select(m => m.MessageId));
        for (var i = 0; i < 3; i++)
        {
            var m = received[i];
            AssertSameTypedProperties(TypedProperties(i), m.ApplicationProperties);
            Assert.Equal($"typed-{i}", m.Body.ToString());
            Assert.Equal($"corr-{i}", m.CorrelationId);
            Assert.Equal("subject", m.Subject);
            Assert.Equal("text/plain", m.ContentType);
            Assert.Equal("to", m.To);
            Assert.Equal("reply", m.ReplyTo);
            Assert.Equal(TimeSpan.FromMinutes(5), m.TimeToLive);
            // The .NET client shows header.delivery-count + 1: 1 on the first delivery.
            Assert.Equal(1, m.DeliveryCount);
            Assert.True(m.SequenceNumber > 0);
        }
        await receiver.DeadLetterMessageAsync(received[0], "BadOrder", "checked by the suite");
        await receiver.DeadLetterMessageAsync(received[1], new Dictionary<string, object> { ["extra"] = "added" }, "BadOrder", "with a property");
        await receiver.CompleteMessageAsync(received[2]);

        await using var deadLetters = _client.CreateReceiver("typed", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        var dead = await ReceiveAsync(deadLetters, 2);
        Assert.Equal(new[] { "typed-0", "typed-1" }, dead.Select(m => m.MessageId));
        for (var i = 0; i < 2; i++)
        {
            AssertSameTypedProperties(TypedProperties(i), dead[i].ApplicationProperties);
            Assert.Equal("BadOrder", dead[i].DeadLetterReason);
            Assert.Equal("typed", dead[i].DeadLetterSource);
        }
        Assert.Equal("checked by the suite", dead[0].DeadLetterErrorDescription);
        Assert.Equal("added", dead[1].ApplicationProperties["extra"]);
        foreach (var m in dead) await deadLetters.CompleteMessageAsync(m);
    }

    [Fact]
    public async Task AbandonRedeliversAndCountsDefersAndPeeks()
    {
        await using var sender = _client.CreateSender("settle");
        await sender.SendMessagesAsync(new[] { new ServiceBusMessage("a") { MessageId = "abandon-me" }, new ServiceBusMessage("d") { MessageId = "defer-me" } });
        await using var receiver = _client.CreateReceiver("settle");

        var peeked = await receiver.PeekMessagesAsync(10);
        Assert.Equal(new[] { "abandon-me", "defer-me" }, peeked.Select(m => m.MessageId));
        Assert.All(peeked, m => Assert.Equal(ServiceBusMessageState.Active, m.State));

        var first = await ReceiveAsync(receiver, 2);
        await receiver.AbandonMessageAsync(first[0], new Dictionary<string, object> { ["note"] = "abandoned once" });
        await receiver.DeferMessageAsync(first[1]);

        var again = await ReceiveAsync(receiver, 1);
        Assert.Equal("abandon-me", again[0].MessageId);
        Assert.Equal(1, first[0].DeliveryCount);
        Assert.Equal(2, again[0].DeliveryCount);
        await receiver.CompleteMessageAsync(again[0]);

        var deferredPeek = await receiver.PeekMessageAsync(first[1].SequenceNumber);
        Assert.Equal(ServiceBusMessageState.Deferred, deferredPeek.State);
        var deferred = await receiver.ReceiveDeferredMessageAsync(first[1].SequenceNumber);
        Assert.Equal("defer-me", deferred.MessageId);
        await receiver.CompleteMessageAsync(deferred);

        Assert.Null(await receiver.PeekMessageAsync(deferred.SequenceNumber));
        Assert.Empty(await receiver.ReceiveMessagesAsync(1, TimeSpan.FromMilliseconds(200)));
    }

    /// <summary>
    /// Service Bus counts a deferral as a delivery and the dead-letter copy keeps the count, which the
    /// dead-letter queue does not change; a message from it cannot be dead-lettered again
    /// (docs/emulator.md, delivery counts). The
    /// .NET client shows received messages' AMQP delivery-count + 1 and peeked ones' as is.
    /// </summary>
    [Fact]
    public async Task DeferralCountsADeliveryAndTheDeadLetterQueueRefusesDeadLettering()
    {
        await using var sender = _client.CreateSender("delivery-counts");
        await sender.SendMessageAsync(new ServiceBusMessage("d") { MessageId = "count-me" });
        await using var receiver = _client.CreateReceiver("delivery-counts");
        var first = (await ReceiveAsync(receiver, 1))[0];
        Assert.Equal(1, first.DeliveryCount);
        await receiver.DeferMessageAsync(first);

        Assert.Equal(1, (await receiver.PeekMessageAsync(first.SequenceNumber)).DeliveryCount);
        var deferred = await receiver.ReceiveDeferredMessageAsync(first.SequenceNumber);
        Assert.Equal(2, deferred.DeliveryCount);
        await receiver.DeadLetterMessageAsync(deferred, "Checked", "by the suite");

        await using var deadLetters = _client.CreateReceiver("delivery-counts", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        var copy = (await ReceiveAsync(deadLetters, 1))[0];
        Assert.Equal("count-me", copy.MessageId);
        Assert.Equal(2, copy.DeliveryCount);
        await Assert.ThrowsAsync<InvalidOperationException>(() => deadLetters.DeadLetterMessageAsync(copy));

        var again = (await ReceiveAsync(deadLetters, 1))[0];
        Assert.Equal("count-me", again.MessageId);
        Assert.Equal(2, again.DeliveryCount);
        await deadLetters.AbandonMessageAsync(again);
        var abandoned = (await ReceiveAsync(deadLetters, 1))[0];
        Assert.Equal(2, abandoned.DeliveryCount); // a dead-letter queue counts no deliveries
        await deadLetters.CompleteMessageAsync(abandoned);
        Assert.Null(await deadLetters.PeekMessageAsync());
    }

    [Fact]
    public async Task ScheduleDeliversLaterAndCancelRemoves()
    {
        await using var sender = _client.CreateSender("schedule");
        await using var receiver = _client.CreateReceiver("schedule");
        var soon = DateTimeOffset.UtcNow.AddSeconds(1.5);
        var kept = await sender.ScheduleMessageAsync(new ServiceBusMessage("soon") { MessageId = "soon" }, soon);
        var cancelled = await sender.ScheduleMessageAsync(new ServiceBusMessage("never") { MessageId = "never" }, DateTimeOffset.UtcNow.AddMinutes(10));
        Assert.NotEqual(kept, cancelled);

        var peeked = await receiver.PeekMessagesAsync(10);
        Assert.Equal(new[] { "soon", "never" }, peeked.Select(m => m.MessageId));
        Assert.All(peeked, m => Assert.Equal(ServiceBusMessageState.Scheduled, m.State));

        await sender.CancelScheduledMessageAsync(cancelled);
        Assert.Equal(new[] { "soon" }, (await receiver.PeekMessagesAsync(10, fromSequenceNumber: 1)).Select(m => m.MessageId));

        Assert.Empty(await receiver.ReceiveMessagesAsync(1, TimeSpan.FromMilliseconds(300)));
        var delivered = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(delivered);
        Assert.Equal("soon", delivered.MessageId);
        Assert.True(delivered.EnqueuedTime >= soon.AddMilliseconds(-50), $"enqueued {delivered.EnqueuedTime:O}, scheduled {soon:O}");
        await receiver.CompleteMessageAsync(delivered);
    }

    [Fact]
    public async Task MessageLockRenewalExtendsTheLock()
    {
        await using var sender = _client.CreateSender("lock-renew");
        await sender.SendMessageAsync(new ServiceBusMessage("renew") { MessageId = "renew" });
        await using var receiver = _client.CreateReceiver("lock-renew");
        var message = (await ReceiveAsync(receiver, 1))[0];
        var before = message.LockedUntil;
        Assert.InRange((before - DateTimeOffset.UtcNow).TotalSeconds, 3, 6);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await receiver.RenewMessageLockAsync(message);
        Assert.True(message.LockedUntil > before.AddMilliseconds(500), $"{message.LockedUntil:O} vs {before:O}");
        await receiver.CompleteMessageAsync(message);
    }

    [Fact]
    public async Task ReleasedDeliveriesComeBackWithoutADeliveryCounted()
    {
        // A receive cancelled while a delivery is on its way makes the .NET client (prefetch 0) release
        // that delivery: AMQP `released`, which must not count as a delivery attempt (AMQP 1.0 §3.4.4).
        await using var sender = _client.CreateSender("cancelled-receives");
        await using var receiver = _client.CreateReceiver("cancelled-receives");
        var received = new List<ServiceBusReceivedMessage>();
        var released = new HashSet<long>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        for (var n = 0; DateTime.UtcNow < deadline; n++)
        {
            await sender.SendMessageAsync(new ServiceBusMessage($"{n}") { MessageId = $"cancelled-{n}" });
            using var cancel = new CancellationTokenSource(Random.Shared.Next(1, 25));
            try
            {
                foreach (var m in await receiver.ReceiveMessagesAsync(5, TimeSpan.FromMilliseconds(50), cancel.Token))
                {
                    received.Add(m);
                    await receiver.CompleteMessageAsync(m);
                }
            }
            catch (OperationCanceledException)
            {
            }
            released = ReleasedSequenceNumbers(emulator.Log(), "cancelled-receives");
            // Done once a released message has come back (a message handed to the app is never released).
            if (received.Any(m => released.Contains(m.SequenceNumber))) break;
        }
        var back = received.Where(m => released.Contains(m.SequenceNumber)).ToList();
        Assert.True(back.Count > 0, $"no released delivery came back within 20 s ({released.Count} released, {received.Count} received)");
        Assert.All(back, m => Assert.Equal(1, m.DeliveryCount));
    }

    private static HashSet<long> ReleasedSequenceNumbers(string log, string queue) =>
        System.Text.RegularExpressions.Regex.Matches(log, $@"released {queue} #(\d+)")
            .Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToHashSet();

    /// <summary>Receives exactly `count` messages (several calls may be needed), failing after 10 s.</summary>
    internal static async Task<List<ServiceBusReceivedMessage>> ReceiveAsync(ServiceBusReceiver receiver, int count)
    {
        var all = new List<ServiceBusReceivedMessage>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (all.Count < count && DateTime.UtcNow < deadline)
            all.AddRange(await receiver.ReceiveMessagesAsync(count - all.Count, TimeSpan.FromSeconds(1)));
        Assert.Equal(count, all.Count);
        return all;
    }
}

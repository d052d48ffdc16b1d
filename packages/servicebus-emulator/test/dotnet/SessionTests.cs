using Azure.Messaging.ServiceBus;
using Xunit;

namespace ConvoyEmulator.Tests;

/// <summary>Session receivers with the .NET client: FIFO, accept-next, state and lock renewal.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class SessionTests(EmulatorFixture emulator)
{
    private readonly ServiceBusClient _client = emulator.Client;

    [Fact]
    public async Task BatchesAcrossSessionsArriveInOrderPerSession()
    {
        const int sessions = 4;
        const int perSession = 25;
        await using var sender = _client.CreateSender("fifo");
        // Interleaved: each batch carries the next messages of every session.
        for (var start = 0; start < perSession; start += 5)
        {
            using var batch = await sender.CreateMessageBatchAsync();
            for (var i = start; i < start + 5; i++)
                for (var s = 0; s < sessions; s++)
                    Assert.True(batch.TryAddMessage(new ServiceBusMessage($"{i}") { SessionId = $"fifo-{s}", MessageId = $"fifo-{s}-{i}" }));
            await sender.SendMessagesAsync(batch);
        }
        var seen = new HashSet<string>();
        for (var n = 0; n < sessions; n++)
        {
            await using var receiver = await _client.AcceptNextSessionAsync("fifo");
            Assert.True(seen.Add(receiver.SessionId), $"session {receiver.SessionId} accepted twice");
            Assert.True(receiver.SessionLockedUntil > DateTimeOffset.UtcNow);
            var bodies = new List<int>();
            while (bodies.Count < perSession)
            {
                var got = await receiver.ReceiveMessagesAsync(perSession - bodies.Count, TimeSpan.FromSeconds(2));
                Assert.NotEmpty(got);
                foreach (var m in got)
                {
                    Assert.Equal(receiver.SessionId, m.SessionId);
                    bodies.Add(int.Parse(m.Body.ToString()));
                    await receiver.CompleteMessageAsync(m);
                }
            }
            Assert.Equal(Enumerable.Range(0, perSession), bodies);
        }
        Assert.Equal(Enumerable.Range(0, sessions).Select(s => $"fifo-{s}").Order(), seen.Order());
    }

    [Fact]
    public async Task AcceptNextSessionTimesOutWithServiceTimeout()
    {
        await using var client = new ServiceBusClient(emulator.ConnectionString, EmulatorFixture.FastOptions(TimeSpan.FromSeconds(2)));
        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<ServiceBusException>(async () => await client.AcceptNextSessionAsync("never-sent"));
        Assert.Equal(ServiceBusFailureReason.ServiceTimeout, error.Reason);
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 1, 10);
    }

    [Fact]
    public async Task AcceptNextSessionWaitsForASessionThatGetsMessages()
    {
        await using var sender = _client.CreateSender("session-state");
        var accept = _client.AcceptNextSessionAsync("session-state");
        await Task.Delay(300);
        Assert.False(accept.IsCompleted);
        await sender.SendMessageAsync(new ServiceBusMessage("late") { SessionId = "late-arrival" });
        await using var receiver = await accept.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("late-arrival", receiver.SessionId);
        var m = Assert.Single(await receiver.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(2)));
        await receiver.CompleteMessageAsync(m);
    }

    [Fact]
    public async Task SessionStateAndSessionLockRenewal()
    {
        await using var sender = _client.CreateSender("session-state");
        await sender.SendMessageAsync(new ServiceBusMessage("1") { SessionId = "stateful" });
        await using (var receiver = await _client.AcceptSessionAsync("session-state", "stateful"))
        {
            Assert.Null(await receiver.GetSessionStateAsync());
            await receiver.SetSessionStateAsync(BinaryData.FromString("step-1"));
            Assert.Equal("step-1", (await receiver.GetSessionStateAsync()).ToString());

            var before = receiver.SessionLockedUntil;
            Assert.InRange((before - DateTimeOffset.UtcNow).TotalSeconds, 3, 6);
            await Task.Delay(TimeSpan.FromSeconds(1));
            await receiver.RenewSessionLockAsync();
            Assert.True(receiver.SessionLockedUntil > before.AddMilliseconds(500), $"{receiver.SessionLockedUntil:O} vs {before:O}");

            // A second receiver cannot take the locked session.
            var locked = await Assert.ThrowsAsync<ServiceBusException>(async () => await _client.AcceptSessionAsync("session-state", "stateful"));
            Assert.Equal(ServiceBusFailureReason.SessionCannotBeLocked, locked.Reason);

            var m = Assert.Single(await receiver.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(2)));
            await receiver.CompleteMessageAsync(m);
        }
        // The state outlives the receiver (and the session's messages).
        await using (var again = await _client.AcceptSessionAsync("session-state", "stateful"))
        {
            Assert.Equal("step-1", (await again.GetSessionStateAsync()).ToString());
            await again.SetSessionStateAsync(null);
            Assert.Null(await again.GetSessionStateAsync());
        }
    }

    [Fact]
    public async Task SessionLockExpiryIsReportedAsSessionLockLost()
    {
        await using var sender = _client.CreateSender("session-state");
        await sender.SendMessageAsync(new ServiceBusMessage("1") { SessionId = "expiring" });
        await using var receiver = await _client.AcceptSessionAsync("session-state", "expiring");
        var m = Assert.Single(await receiver.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(2)));
        await Task.Delay(receiver.SessionLockedUntil - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(500));
        // The emulator detaches the link with com.microsoft:session-lock-lost, as the service does; the
        // client then reports the receiver closed (or SessionLockLost if it sees the detach later).
        var error = await Record.ExceptionAsync(async () => await receiver.CompleteMessageAsync(m));
        Assert.True(
            error is ObjectDisposedException || error is ServiceBusException { Reason: ServiceBusFailureReason.SessionLockLost },
            $"expected the lost lock to fail the completion, got {error?.GetType().Name ?? "no error"}: {error?.Message}");

        // The message was not settled: a new owner gets it again, with the delivery counted.
        await using var next = await _client.AcceptSessionAsync("session-state", "expiring");
        var again = Assert.Single(await next.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(2)));
        Assert.Equal(m.MessageId, again.MessageId);
        Assert.Equal(2, again.DeliveryCount);
        await next.CompleteMessageAsync(again);
    }
}

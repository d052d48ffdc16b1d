using Azure.Messaging.ServiceBus;
using Xunit;

namespace ConvoyEmulator.Tests;

/// <summary>The emulator's refusals reach the .NET client as the exceptions the service produces.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class ErrorTests(EmulatorFixture emulator)
{
    private readonly ServiceBusClient _client = emulator.Client;

    private static async Task<ServiceBusFailureReason> ReasonOf(Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<ServiceBusException>(action);
        return error.Reason;
    }

    [Fact]
    public async Task MissingEntityIsMessagingEntityNotFound()
    {
        await using var sender = _client.CreateSender("no-such-queue");
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, await ReasonOf(() => sender.SendMessageAsync(new ServiceBusMessage("x"))));
        await using var receiver = _client.CreateReceiver("no-such-queue");
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, await ReasonOf(() => receiver.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(1))));
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, await ReasonOf(() => receiver.PeekMessagesAsync(1)));
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, await ReasonOf(() => _client.AcceptSessionAsync("no-such-queue", "s")));
    }

    [Fact]
    public async Task WrongSasKeyIsUnauthorizedAccess()
    {
        var wrong = emulator.ConnectionString.Replace("SharedAccessKey=SAS_KEY_VALUE", "SharedAccessKey=not-the-key", StringComparison.Ordinal);
        Assert.NotEqual(emulator.ConnectionString, wrong);
        await using var client = new ServiceBusClient(wrong, EmulatorFixture.FastOptions());
        await using var sender = client.CreateSender("plain-errors");
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => sender.SendMessageAsync(new ServiceBusMessage("x")));
        await using var receiver = client.CreateReceiver("plain-errors");
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => receiver.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task SessionQueueRefusesMessagesWithoutOrWithEmptySessionId()
    {
        await using var sender = _client.CreateSender("errors");
        await Assert.ThrowsAsync<InvalidOperationException>(() => sender.SendMessageAsync(new ServiceBusMessage("no session")));
        await Assert.ThrowsAsync<InvalidOperationException>(() => sender.SendMessageAsync(new ServiceBusMessage("empty") { SessionId = "" }));
        // Nothing was stored: the next available session is the one valid message's.
        await sender.SendMessageAsync(new ServiceBusMessage("valid") { SessionId = "valid" });
        await using var receiver = await _client.AcceptNextSessionAsync("errors");
        Assert.Equal("valid", receiver.SessionId);
        var m = Assert.Single(await receiver.ReceiveMessagesAsync(10, TimeSpan.FromSeconds(1)));
        Assert.Equal("valid", m.Body.ToString());
        await receiver.CompleteMessageAsync(m);
    }

    [Fact]
    public async Task SettlementAndLookupFailuresMapToTheirReasons()
    {
        await using var sender = _client.CreateSender("plain-errors");
        await sender.SendMessageAsync(new ServiceBusMessage("once") { MessageId = "once" });
        await using var receiver = _client.CreateReceiver("plain-errors");
        var m = (await MessagingTests.ReceiveAsync(receiver, 1))[0];
        await receiver.CompleteMessageAsync(m);
        Assert.Equal(ServiceBusFailureReason.MessageLockLost, await ReasonOf(() => receiver.CompleteMessageAsync(m)));
        Assert.Equal(ServiceBusFailureReason.MessageLockLost, await ReasonOf(() => receiver.RenewMessageLockAsync(m)));
        Assert.Equal(ServiceBusFailureReason.MessageNotFound, await ReasonOf(() => receiver.ReceiveDeferredMessageAsync(m.SequenceNumber)));

        var tooBig = new ServiceBusMessage(new byte[300 * 1024]);
        Assert.Equal(ServiceBusFailureReason.MessageSizeExceeded, await ReasonOf(() => sender.SendMessageAsync(tooBig)));
    }

    [Fact]
    public async Task SessionReceiverOnANonSessionQueueIsRefused()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.AcceptSessionAsync("plain-errors", "s"));
    }
}

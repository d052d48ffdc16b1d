using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using Azure.Messaging.ServiceBus.Administration;
using Xunit;

namespace ConvoyEmulator.Tests;

/// <summary>
/// One emulator (npm run emulator, free port, built-in config) for the administration tests: the
/// ServiceBusAdministrationClient gets the emulator's own connection string, nothing else.
/// </summary>
public sealed class AdministrationEmulator : IAsyncLifetime
{
    private Process? _process;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "package.json")) || !Directory.Exists(Path.Combine(root, "packages", "servicebus-emulator", "src")))
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root (package.json) not found above the test binaries");
        var start = new ProcessStartInfo("node", ["--import", "tsx", "packages/servicebus-emulator/src/cli.ts", "--port", "0"])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the emulator");
        var first = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (first is null || !first.StartsWith("Endpoint=", StringComparison.Ordinal))
            throw new InvalidOperationException($"emulator did not print its connection string: {first} {await _process.StandardError.ReadToEndAsync()}");
        ConnectionString = first;
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
    }
}

public sealed class AdministrationTests(AdministrationEmulator emulator) : IClassFixture<AdministrationEmulator>
{
    private ServiceBusAdministrationClient Admin => new(emulator.ConnectionString);

    [Fact]
    public async Task Creates_a_session_queue_at_runtime_with_its_settings_and_live_counts()
    {
        var admin = Admin;
        var created = await admin.CreateQueueAsync(new CreateQueueOptions("admin-orders")
        {
            RequiresSession = true,
            LockDuration = TimeSpan.FromSeconds(45),
            MaxDeliveryCount = 4,
            DeadLetteringOnMessageExpiration = true,
        });
        Assert.Equal("admin-orders", created.Value.Name);
        Assert.True(created.Value.RequiresSession);
        Assert.Equal(TimeSpan.FromSeconds(45), created.Value.LockDuration);
        Assert.Equal(4, created.Value.MaxDeliveryCount);
        Assert.True(await admin.QueueExistsAsync("admin-orders"));

        await using var client = new ServiceBusClient(emulator.ConnectionString);
        var sender = client.CreateSender("admin-orders");
        await sender.SendMessagesAsync([
            new ServiceBusMessage("1") { SessionId = "a" },
            new ServiceBusMessage("2") { SessionId = "a" },
            new ServiceBusMessage("3") { SessionId = "b" },
        ]);
        var runtime = (await admin.GetQueueRuntimePropertiesAsync("admin-orders")).Value;
        Assert.Equal(3, runtime.TotalMessageCount);
        Assert.Equal(3, runtime.ActiveMessageCount);

        var session = await client.AcceptSessionAsync("admin-orders", "a");
        var first = await session.ReceiveMessageAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(first);
        await session.DeadLetterMessageAsync(first);
        runtime = (await admin.GetQueueRuntimePropertiesAsync("admin-orders")).Value;
        Assert.Equal(2, runtime.ActiveMessageCount);
        Assert.Equal(1, runtime.DeadLetterMessageCount);
        await session.DisposeAsync();

        var listed = new List<string>();
        await foreach (var q in admin.GetQueuesAsync()) listed.Add(q.Name);
        Assert.Contains("admin-orders", listed);
        Assert.Contains("order-events", listed);

        await admin.DeleteQueueAsync("admin-orders");
        Assert.False(await admin.QueueExistsAsync("admin-orders"));
    }

    [Fact]
    public async Task Creates_a_topic_and_a_filtered_subscription_that_routes_later_messages()
    {
        var admin = Admin;
        await admin.CreateTopicAsync("admin-events");
        await admin.CreateSubscriptionAsync(
            new CreateSubscriptionOptions("admin-events", "only-a"),
            new CreateRuleOptions("only-a", new SqlRuleFilter("kind = 'a'")));
        await admin.CreateSubscriptionAsync("admin-events", "every");

        await using var client = new ServiceBusClient(emulator.ConnectionString);
        var sender = client.CreateSender("admin-events");
        await sender.SendMessageAsync(new ServiceBusMessage("A") { ApplicationProperties = { ["kind"] = "a" } });
        await sender.SendMessageAsync(new ServiceBusMessage("B") { ApplicationProperties = { ["kind"] = "b" } });

        Assert.Equal(1, (await admin.GetSubscriptionRuntimePropertiesAsync("admin-events", "only-a")).Value.TotalMessageCount);
        Assert.Equal(2, (await admin.GetSubscriptionRuntimePropertiesAsync("admin-events", "every")).Value.TotalMessageCount);
        Assert.Equal(2, (await admin.GetTopicRuntimePropertiesAsync("admin-events")).Value.SubscriptionCount);
        var names = new List<string>();
        await foreach (var s in admin.GetSubscriptionsAsync("admin-events")) names.Add(s.SubscriptionName);
        Assert.Equal(["only-a", "every"], names);

        // The rules read back as routing applies them (read-only: Config.json or the default rule).
        var rule = (await admin.GetRuleAsync("admin-events", "only-a", "only-a")).Value;
        Assert.Equal("kind = 'a'", Assert.IsType<SqlRuleFilter>(rule.Filter).SqlExpression);
        var everyRules = new List<RuleProperties>();
        await foreach (var r in admin.GetRulesAsync("admin-events", "every")) everyRules.Add(r);
        Assert.Equal("$Default", Assert.Single(everyRules).Name);
        Assert.IsType<TrueRuleFilter>(everyRules[0].Filter);
        await admin.CreateSubscriptionAsync(
            new CreateSubscriptionOptions("admin-events", "by-label"),
            new CreateRuleOptions("label", new CorrelationRuleFilter { Subject = "A", ApplicationProperties = { ["n"] = 7, ["flag"] = true } }));
        var correlation = Assert.IsType<CorrelationRuleFilter>((await admin.GetRuleAsync("admin-events", "by-label", "label")).Value.Filter);
        Assert.Equal("A", correlation.Subject);
        Assert.Equal(7, correlation.ApplicationProperties["n"]);
        Assert.Equal(true, correlation.ApplicationProperties["flag"]);
        await Assert.ThrowsAsync<ArgumentException>(() => admin.CreateRuleAsync("admin-events", "every", new CreateRuleOptions("more")));
        await admin.DeleteSubscriptionAsync("admin-events", "by-label");

        var receiver = client.CreateReceiver("admin-events", "only-a");
        var got = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("A", got?.Body.ToString());
        await receiver.CompleteMessageAsync(got!);

        await admin.DeleteSubscriptionAsync("admin-events", "only-a");
        Assert.False(await admin.SubscriptionExistsAsync("admin-events", "only-a"));
        await admin.DeleteTopicAsync("admin-events");
        Assert.False(await admin.TopicExistsAsync("admin-events"));
    }

    [Fact]
    public async Task Maps_errors_like_the_service()
    {
        var admin = Admin;
        await admin.CreateQueueAsync("admin-twice");
        var again = await Assert.ThrowsAsync<ServiceBusException>(() => admin.CreateQueueAsync("admin-twice"));
        Assert.Equal(ServiceBusFailureReason.MessagingEntityAlreadyExists, again.Reason);
        var queue = (await admin.GetQueueAsync("admin-twice")).Value;
        queue.MaxDeliveryCount = 7;
        await Assert.ThrowsAsync<ArgumentException>(() => admin.UpdateQueueAsync(queue));
        await admin.DeleteQueueAsync("admin-twice");

        var missing = await Assert.ThrowsAsync<ServiceBusException>(() => admin.GetQueueAsync("admin-missing"));
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, missing.Reason);
        var deleteMissing = await Assert.ThrowsAsync<ServiceBusException>(() => admin.DeleteQueueAsync("admin-missing"));
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, deleteMissing.Reason);
        var noTopic = await Assert.ThrowsAsync<ServiceBusException>(() => admin.CreateSubscriptionAsync("admin-no-topic", "s"));
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, noTopic.Reason);

        var wrongKey = new ServiceBusAdministrationClient(emulator.ConnectionString.Replace("SAS_KEY_VALUE", "not-the-key"));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => wrongKey.GetQueueAsync("order-events"));
    }

    [Fact]
    public async Task Reports_namespace_properties()
    {
        var properties = (await Admin.GetNamespacePropertiesAsync()).Value;
        Assert.Equal("sbemulatorns", properties.Name);
    }
}

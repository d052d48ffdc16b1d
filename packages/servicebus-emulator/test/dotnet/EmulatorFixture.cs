using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using Xunit;

namespace ConvoyEmulator.Tests;

/// <summary>
/// Starts the emulator (`node --import tsx packages/servicebus-emulator/src/cli.ts`) on a free port with this
/// suite's Config.json, and reads the connection string it prints as its first line.
/// </summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    private Process? _process;
    private readonly ConcurrentQueue<string> _log = new();

    public string ConnectionString { get; private set; } = "";
    public string RepoRoot { get; } = FindRepoRoot();

    /// <summary>One client for the tests; retries off so a failure shows at once.</summary>
    public ServiceBusClient Client { get; private set; } = null!;

    public static ServiceBusClientOptions FastOptions(TimeSpan? tryTimeout = null) => new()
    {
        RetryOptions = new ServiceBusRetryOptions
        {
            MaxRetries = 0,
            TryTimeout = tryTimeout ?? TimeSpan.FromSeconds(15),
        },
    };

    public async Task InitializeAsync()
    {
        var config = Path.Combine(AppContext.BaseDirectory, "Config.json");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--import", "tsx", "packages/servicebus-emulator/src/cli.ts", "--port", "0", "--config", config, "--verbose" })
            start.ArgumentList.Add(arg);
        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("The .NET suite starts the emulator with `node`, which is not on PATH.", e);
        }
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            _log.Enqueue(e.Data);
            while (_log.Count > 5000 && _log.TryDequeue(out string? _)) { }
        };
        _process.BeginErrorReadLine();
        var first = await ReadLineAsync(_process, TimeSpan.FromSeconds(30));
        if (first is null || !first.StartsWith("Endpoint=", StringComparison.Ordinal))
            throw new InvalidOperationException($"The emulator did not print a connection string (got '{first}'). Its log:\n{Log()}");
        ConnectionString = first;
        var ready = await ReadLineAsync(_process, TimeSpan.FromSeconds(10));
        if (ready is null || !ready.Contains("ready", StringComparison.Ordinal))
            throw new InvalidOperationException($"The emulator did not report ready (got '{ready}'). Its log:\n{Log()}");
        Client = new ServiceBusClient(ConnectionString, FastOptions());
    }

    public async Task DisposeAsync()
    {
        if (Client is not null) await Client.DisposeAsync();
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
    }

    /// <summary>The emulator's recent --verbose lines, for failure messages.</summary>
    public string Log() => string.Join('\n', _log);

    private static async Task<string?> ReadLineAsync(Process process, TimeSpan timeout)
    {
        var read = process.StandardOutput.ReadLineAsync();
        var done = await Task.WhenAny(read, Task.Delay(timeout));
        return done == read ? await read : null;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "packages", "servicebus-emulator", "src", "cli.ts"))
                && File.Exists(Path.Combine(dir.FullName, "package.json")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No repository root (with packages/servicebus-emulator/src/cli.ts) above {AppContext.BaseDirectory}.");
    }
}

[CollectionDefinition(Name)]
public sealed class EmulatorCollection : ICollectionFixture<EmulatorFixture>
{
    public const string Name = "emulator";
}

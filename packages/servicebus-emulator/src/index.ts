import type { Socket } from 'node:net';
import { createAdminServer, listenShared } from './adminHttp';
import type { SharedAccessKey } from './cbs';
import { realClock, type Clock } from './clock';
import { loadEmulatorConfig, type EmulatorConfigFile } from './config';
import type { CompletionLedger } from './completionLedger';
import { Journal, type JournalRecord } from './journal';
import { Namespace } from './namespace';
import { Broker } from './server';
import type { EmulatorStats } from './statsView';

export type { Clock } from './clock';
export { ManualClock, realClock } from './clock';
export { defaultEmulatorConfig, type EmulatorConfigFile } from './config';
export type { CompletionLedger, GiveBack } from './completionLedger';
export { deadLetterDepth, formatStats, type EmulatorStats } from './statsView';

export interface StartEmulatorOptions {
  /** 0 or absent = a free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Path to an official-emulator Config.json, or the parsed object; default = built-in config. */
  config?: string | EmulatorConfigFile;
  /** Default: the real clock. */
  clock?: Clock;
  log?: (line: string) => void;
  /**
   * Keep messages, session state, sequence numbers and duplicate-detection ids in this directory
   * (write-ahead journal, journal.ts) and reload them on start. Absent = in memory.
   */
  dataDir?: string;
  /** fdatasync period of the journal in ms (default 200); 0 = sync every write. */
  journalSyncMs?: number;
  /** The journal is rewritten to its live records once this much was appended (default 64 MiB). */
  journalCompactBytes?: number;
  /**
   * Keep completed messages until told they are safe, so they can be given back when the store their
   * consumer wrote to lost its last writes (the local stack's Azurite; completionLedger.ts).
   */
  retainCompletions?: boolean;
}

export interface RunningEmulator {
  /** Endpoint=sb://localhost:<port>;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true; */
  connectionString: string;
  port: number;
  /** Entity counts, active/DLQ/scheduled depth, sessions and their owners. */
  stats(): EmulatorStats;
  /** Present with `retainCompletions`: completed messages that can still be given back. */
  completions: CompletionLedger | undefined;
  /** Each AMQP protocol error that ended a client's connection (printed too); none is expected. */
  protocolErrors(): string[];
  /** Closes every connection and the listener. */
  close(): Promise<void>;
}

/** The official emulator's well-known key (also in local.settings.json.example): not a secret. */
export const emulatorKey: SharedAccessKey = { name: 'RootManageSharedAccessKey', value: 'SAS_KEY_VALUE' };

export function emulatorConnectionString(port: number, key: SharedAccessKey = emulatorKey): string {
  return `Endpoint=sb://localhost:${port};SharedAccessKeyName=${key.name};SharedAccessKey=${key.value};UseDevelopmentEmulator=true;`;
}

/** Starts the emulator on 127.0.0.1 (or `host`) and resolves once it accepts connections. */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const log = options.log ?? (() => undefined);
  const clock = options.clock ?? realClock;
  const { namespace, journal } = openNamespace(options, clock, log);
  const broker = new Broker({ namespace, clock, key: emulatorKey, log });
  // The broker's own listener stays on a loopback port; clients reach it through the shared port,
  // which also serves the management API that ServiceBusAdministrationClient calls (adminHttp.ts).
  let shared: Awaited<ReturnType<typeof listenShared>>;
  try {
    await broker.listen('127.0.0.1', 0);
    const admin = createAdminServer({ namespace, key: emulatorKey, clock, log });
    const adopt = (socket: Socket) => {
      broker.adopt(socket);
    };
    shared = await listenShared(options.host ?? '127.0.0.1', options.port ?? 0, adopt, admin);
  } catch (error) {
    // A taken port must not leave the data directory locked by this process.
    await broker.close().catch(() => undefined);
    namespace.dispose();
    journal?.close();
    throw error;
  }
  const port = shared.port;
  let closed: Promise<void> | undefined;
  return {
    connectionString: emulatorConnectionString(port),
    port,
    stats: () => ({ ...namespace.stats(), connections: broker.connectionCount() }),
    completions: options.retainCompletions === true ? namespace.retainCompletions() : undefined,
    protocolErrors: () => broker.protocolErrors(),
    close: () => {
      closed ??= (async () => {
        await broker.close();
        await shared.close();
        namespace.dispose();
        journal?.close();
      })();
      return closed;
    },
  };
}

/** The namespace of the config, with what the journal in `dataDir` kept restored (then compacted). */
function openNamespace(
  options: StartEmulatorOptions,
  clock: Clock,
  log: (line: string) => void,
): { namespace: Namespace; journal: Journal | undefined } {
  const definition = loadEmulatorConfig(options.config);
  if (options.dataDir === undefined) return { namespace: new Namespace(definition, clock, log), journal: undefined };
  const opened = Journal.open(options.dataDir, {
    ...(options.journalSyncMs === undefined ? {} : { syncIntervalMs: options.journalSyncMs }),
    ...(options.journalCompactBytes === undefined ? {} : { compactBytes: options.journalCompactBytes }),
  });
  const namespace = new Namespace(definition, clock, log, opened.journal);
  try {
    const { restored, kept } = namespace.restore(opened.recovered);
    const snapshot = (): JournalRecord[] => [...namespace.snapshot(), ...kept];
    opened.journal.compact(snapshot());
    opened.journal.compactWhenGrown(snapshot);
    log(
      `journal ${options.dataDir}: ${opened.recovered.records} record(s) read${opened.recovered.tornTail ? ' (a torn last line skipped)' : ''}, ${restored} message(s) restored, compacted`,
    );
  } catch (error) {
    namespace.dispose();
    opened.journal.close();
    throw error;
  }
  return { namespace, journal: opened.journal };
}

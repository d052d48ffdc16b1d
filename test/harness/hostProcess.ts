import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { InvocationEvent, ServiceBusStats } from '@convoy/functions-host';
import type { HttpTally } from './httpTally';
import { parseParentMessage, type ChildConfig, type ParentMessage } from './hostProtocol';
import { ProtocolErrorScanner } from './protocolErrors';

/** The parent's handle on a local host running in its own process (test/harness/hostChild.ts). */
export interface HostProcess {
  url: string;
  pid: number;
  /** Every invocation the host reported so far, in the order it reported them. */
  readonly events: readonly InvocationEvent[];
  onInvocation(listener: (event: InvocationEvent) => void): () => void;
  /** The host's last log lines (for failure messages). */
  recentLog(): Promise<string[]>;
  /** The host's Service Bus counters (sessions accepted, idle-closed, messages settled). */
  serviceBusStats(): Promise<ServiceBusStats>;
  /** The host's outgoing HTTP requests so far (Azurite tables, durable client), by target and operation. */
  httpTally(): Promise<HttpTally>;
  /** Graceful: drain in-flight calls, close receivers, exit. */
  stop(): Promise<void>;
  /** Abrupt: SIGKILL, as when a worker crashes; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Every line of its stderr that reports an AMQP protocol error (see protocolErrors.ts). */
  protocolErrors(): string[];
  /** Called when the process ends without stop() or kill(): how it ended and its last stderr. */
  onUnexpectedExit(listener: (how: string, stderrTail: string) => void): void;
}

const childEntry = join(__dirname, 'hostChild.ts');

/**
 * CONVOY_HOST_CPU_PROF_DIR=<dir>: the host process writes a V8 CPU profile there when it exits
 * (node --cpu-prof; NODE_OPTIONS may not carry it). Open it in Chrome DevTools or speedscope.
 */
function profileArgs(): string[] {
  const dir = process.env.CONVOY_HOST_CPU_PROF_DIR;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

export async function spawnHost(config: ChildConfig, readyTimeoutMs = 60_000): Promise<HostProcess> {
  const child: ChildProcess = fork(childEntry, [], {
    execArgv: ['--import', 'tsx', ...profileArgs()],
    env: { ...process.env, CONVOY_HOST_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('Could not spawn the host process.');
  let stderr = '';
  const protocolErrors = new ProtocolErrorScanner();
  child.stderr?.on('data', (chunk: Buffer) => {
    protocolErrors.push(chunk.toString());
    stderr = (stderr + chunk.toString()).slice(-8_000);
    if (config.verbose === true) process.stderr.write(chunk);
  });
  let ended: Promise<void> | undefined;
  const unexpectedExit = new Set<(how: string, stderrTail: string) => void>();
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      if (ended === undefined)
        for (const listener of unexpectedExit) listener(`exit code ${String(code)}, signal ${String(signal)}`, stderr);
      resolve();
    }),
  );
  const events: InvocationEvent[] = [];
  const listeners = new Set<(event: InvocationEvent) => void>();
  const waiting = new Map<ParentMessage['kind'], (message: ParentMessage) => void>();

  child.on('message', (raw: unknown) => {
    const message = parseParentMessage(raw);
    if (message.kind === 'invocations') {
      for (const event of message.events) {
        events.push(event);
        for (const listener of listeners) listener(event);
      }
    }
    waiting.get(message.kind)?.(message);
  });
  const next = (kind: ParentMessage['kind'], timeoutMs: number): Promise<ParentMessage> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(kind);
        reject(new Error(`host process sent no "${kind}" within ${String(timeoutMs)} ms\n${stderr}`));
      }, timeoutMs);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`host process exited (code ${String(child.exitCode)}) before "${kind}"\n${stderr}`));
      });
      waiting.set(kind, (message) => {
        clearTimeout(timer);
        waiting.delete(kind);
        resolve(message);
      });
    });

  const stats = async (): Promise<Extract<ParentMessage, { kind: 'stats' }>> => {
    child.send({ kind: 'stats' });
    const message = await next('stats', 5_000);
    if (message.kind !== 'stats') throw new Error('unexpected reply to a stats request');
    return message;
  };

  const ready = await next('ready', readyTimeoutMs).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  if (ready.kind !== 'ready') throw new Error('unexpected first message from the host process');

  return {
    url: ready.url,
    pid,
    events,
    onInvocation(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async recentLog() {
      if (child.exitCode !== null || child.signalCode !== null) return stderr.split('\n');
      child.send({ kind: 'dumpLog' });
      const message = await next('log', 5_000).catch(() => undefined);
      return message?.kind === 'log' ? message.lines : [];
    },
    async serviceBusStats() {
      return (await stats()).serviceBus;
    },
    async httpTally() {
      return (await stats()).http;
    },
    stop() {
      ended ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.send({ kind: 'stop' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      })();
      return ended;
    },
    kill() {
      ended ??= (async () => {
        child.kill('SIGKILL');
        await exited;
      })();
      return ended;
    },
    protocolErrors: () => protocolErrors.lines(),
    onUnexpectedExit(listener) {
      unexpectedExit.add(listener);
    },
  };
}

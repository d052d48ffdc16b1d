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

function forkHostChild(config: ChildConfig): { child: ChildProcess; pid: number } {
  const child: ChildProcess = fork(childEntry, [], {
    execArgv: ['--import', 'tsx', ...profileArgs()],
    env: { ...process.env, CONVOY_HOST_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('Could not spawn the host process.');
  return { child, pid };
}

/** The child's stderr: its last 8 000 characters (for failure messages) and its protocol-error lines. */
class StderrTail {
  text = '';
  readonly protocolErrors = new ProtocolErrorScanner();

  constructor(child: ChildProcess, echo: boolean) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.protocolErrors.push(chunk.toString());
      this.text = (this.text + chunk.toString()).slice(-8_000);
      if (echo) process.stderr.write(chunk);
    });
  }
}

/** How the child ends: stop() or kill() by the parent, or on its own (reported to the listeners). */
class ChildLifecycle {
  readonly exited: Promise<void>;
  readonly #unexpectedExit = new Set<(how: string, stderrTail: string) => void>();
  #ended: Promise<void> | undefined;

  constructor(
    private readonly child: ChildProcess,
    stderr: StderrTail,
  ) {
    this.exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        if (this.#ended === undefined)
          for (const listener of this.#unexpectedExit)
            listener(`exit code ${String(code)}, signal ${String(signal)}`, stderr.text);
        resolve();
      }),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  onUnexpectedExit(listener: (how: string, stderrTail: string) => void): void {
    this.#unexpectedExit.add(listener);
  }

  /** Graceful: asks the child to stop, SIGKILL after 30 s. */
  stop(): Promise<void> {
    this.#ended ??= (async () => {
      if (!this.running) return;
      this.child.send({ kind: 'stop' });
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
      await this.exited;
      clearTimeout(timer);
    })();
    return this.#ended;
  }

  kill(): Promise<void> {
    this.#ended ??= (async () => {
      this.child.kill('SIGKILL');
      await this.exited;
    })();
    return this.#ended;
  }
}

/** The IPC channel from the child: invocation reports as they come, and replies awaited by kind. */
class ChildMessages {
  readonly events: InvocationEvent[] = [];
  readonly #listeners = new Set<(event: InvocationEvent) => void>();
  readonly #waiting = new Map<ParentMessage['kind'], (message: ParentMessage) => void>();

  constructor(
    private readonly child: ChildProcess,
    private readonly lifecycle: ChildLifecycle,
    private readonly stderr: StderrTail,
  ) {
    child.on('message', (raw: unknown) => {
      const message = parseParentMessage(raw);
      if (message.kind === 'invocations') {
        for (const event of message.events) {
          this.events.push(event);
          for (const listener of this.#listeners) listener(event);
        }
      }
      this.#waiting.get(message.kind)?.(message);
    });
  }

  onInvocation(listener: (event: InvocationEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The next message of this kind; rejects after timeoutMs or when the child exits first. */
  next(kind: ParentMessage['kind'], timeoutMs: number): Promise<ParentMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(kind);
        reject(new Error(`host process sent no "${kind}" within ${String(timeoutMs)} ms\n${this.stderr.text}`));
      }, timeoutMs);
      void this.lifecycle.exited.then(() => {
        clearTimeout(timer);
        const code = String(this.child.exitCode);
        reject(new Error(`host process exited (code ${code}) before "${kind}"\n${this.stderr.text}`));
      });
      this.#waiting.set(kind, (message) => {
        clearTimeout(timer);
        this.#waiting.delete(kind);
        resolve(message);
      });
    });
  }

  async stats(): Promise<Extract<ParentMessage, { kind: 'stats' }>> {
    this.child.send({ kind: 'stats' });
    const message = await this.next('stats', 5_000);
    if (message.kind !== 'stats') throw new Error('unexpected reply to a stats request');
    return message;
  }

  /** The child's recent log lines; its stderr tail once it has exited. */
  async recentLog(): Promise<string[]> {
    if (!this.lifecycle.running) return this.stderr.text.split('\n');
    this.child.send({ kind: 'dumpLog' });
    const message = await this.next('log', 5_000).catch(() => undefined);
    return message?.kind === 'log' ? message.lines : [];
  }
}

export async function spawnHost(config: ChildConfig, readyTimeoutMs = 60_000): Promise<HostProcess> {
  const { child, pid } = forkHostChild(config);
  const stderr = new StderrTail(child, config.verbose === true);
  const lifecycle = new ChildLifecycle(child, stderr);
  const messages = new ChildMessages(child, lifecycle, stderr);

  const ready = await messages.next('ready', readyTimeoutMs).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await lifecycle.exited;
    throw error;
  });
  if (ready.kind !== 'ready') throw new Error('unexpected first message from the host process');

  return {
    url: ready.url,
    pid,
    events: messages.events,
    onInvocation: (listener) => messages.onInvocation(listener),
    recentLog: () => messages.recentLog(),
    serviceBusStats: async () => (await messages.stats()).serviceBus,
    httpTally: async () => (await messages.stats()).http,
    stop: () => lifecycle.stop(),
    kill: () => lifecycle.kill(),
    protocolErrors: () => stderr.protocolErrors.lines(),
    onUnexpectedExit: (listener) => {
      lifecycle.onUnexpectedExit(listener);
    },
  };
}

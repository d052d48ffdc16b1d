import type { HookCallback, LogLevel } from './coreApi';
import type { HttpLimits } from './http/server';
import type { InvokeFunction, RegisteredFunctionInfo } from '../worker/contract';
import type { HostStats, InvocationEvent } from './types';

export interface LocalHostOptions {
  /** Folder with package.json (its `main` names the built app), host.json and local.settings.json. */
  appRoot: string;
  /** HTTP port; 0 picks a free one. Default 7071. */
  port?: number;
  /** App settings that win over local.settings.json and the environment. */
  settings?: Record<string, string>;
  /** Used instead of appRoot/host.json. */
  hostJson?: unknown;
  /** Where host lines go; default console.log. */
  log?: (line: string) => void;
  /** How long stop() waits for durable work to finish before closing the backend. Default 10 s. */
  durableDrainMs?: number;
  /**
   * Request body limit and stall timeout. The limit defaults to the FUNCTIONS_REQUEST_BODY_SIZE_LIMIT
   * setting, else the Functions host's 100 MB.
   */
  http?: Partial<HttpLimits>;
  /**
   * Folder where the durable backend keeps orchestration instances, entities and pending work, so
   * they survive a restart or a kill (docs/durable-local.md). Absent = in memory.
   */
  dataDir?: string;
  /**
   * Minimum level of the function lines (one per call, at information; failed calls at error) and of
   * what the app logs; below information the host's session chatter (accepted, idle-closed) is hidden
   * too. Default information.
   */
  logLevel?: LogLevel;
}

export type HookName = 'preInvocation' | 'postInvocation';

export interface LocalHost {
  url: string;
  port: number;
  functions: readonly RegisteredFunctionInfo[];
  stats(): HostStats;
  onInvocation(listener: (event: InvocationEvent) => void): () => void;
  /** Adds an invocation hook after start (tests use it to inject failures); returns its disposer. */
  registerHook(name: HookName, callback: HookCallback): () => void;
  /** Invoke any registered function through the library's invocation model (the durable contract). */
  invoke: InvokeFunction;
  /** Resolves when no durable work is pending (immediately without durable functions). */
  whenDurableIdle(): Promise<void>;
  /** Drains in-flight calls, closes receivers, the durable backend and the HTTP listener. */
  stop(): Promise<void>;
  /**
   * Simulates a crash: connections are dropped at once, nothing is drained or settled (in-flight
   * handlers keep running but can no longer complete their messages). For restart tests.
   */
  kill(): Promise<void>;
}

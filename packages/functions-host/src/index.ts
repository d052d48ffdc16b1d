// The front door of @convoy/functions-host: the local Functions host and the local Durable backend.
// Code outside this package imports only from here (or, for a bench, from ./internal).
export { startLocalHost, type HookName, type LocalHost, type LocalHostOptions } from './host/host';
export { guardReopenOfClosingConnections } from './host/serviceBus/reopenGuard';
export type { HostStats, InvocationEvent, ServiceBusStats } from './host/types';
export type { InvokeFunction, RegisteredFunctionInfo, RpcTypedData, TypedData } from './worker/contract';
export { parseHostJson, type HostConfig, type ServiceBusOptions } from './host/hostConfig';
export { formatTimeSpan, parseTimeSpan } from './host/timeSpan';
export { parseLogLevel } from './host/log';
export type { LogLevel } from './host/coreApi';
// Loading an app as the Node worker does, for the app's own tests.
export { captureRegistrations, entryPointFiles } from './host/loadApp';
export { expandBraces } from './host/glob';
export { applySettings, readSettingsFile } from './host/settings';
export { createRegistry, isInvocationModel, loadIsolated, type ProgrammingModel } from './host/coreApi';
export type { InvocationRequest } from './host/invoke';

export { startLocalHost, type HookName, type LocalHost, type LocalHostOptions } from './host';
export type {
  HostStats,
  InvocationEvent,
  InvokeFunction,
  RegisteredFunctionInfo,
  ServiceBusStats,
  TypedData,
} from './types';
export { parseHostJson, parseTimeSpan, type HostConfig, type ServiceBusOptions } from './hostConfig';

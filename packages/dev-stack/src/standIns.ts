// The stand-ins the dev stack runs, named in one place (each through its package's front door).
export {
  deadLetterDepth,
  startEmulator,
  type CompletionLedger,
  type GiveBack,
  type RunningEmulator,
  type StartEmulatorOptions,
} from '@convoy/servicebus-emulator';
export {
  parseLogLevel,
  startLocalHost,
  type HostStats,
  type LocalHost,
  type LocalHostOptions,
} from '@convoy/functions-host';

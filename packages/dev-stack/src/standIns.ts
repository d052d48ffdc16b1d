// The stand-ins the dev stack runs, named in one place: when the emulator and the host move to
// their packages (@convoy/servicebus-emulator, @convoy/functions-host), only these lines change.
export {
  startEmulator,
  type CompletionLedger,
  type GiveBack,
  type RunningEmulator,
  type StartEmulatorOptions,
} from '../../../local/emulator';
export { deadLetterDepth } from '../../../local/emulator/statsView';
export { startLocalHost, type HostStats, type LocalHost, type LocalHostOptions } from '../../../local/host';
export { parseLogLevel } from '../../../local/host/log';

// The front door of @convoy/dev-stack: everything outside this package imports from here (or, for
// the process-wide crash report, '@convoy/dev-stack/crashReport', imported for its effect).
export {
  startAzurite,
  freePort,
  azuriteTableDbFile,
  devAccountName,
  devAccountKey,
  type AzuriteHandle,
  type AzuriteExit,
  type AzuriteOptions,
  type AzuriteSave,
} from './azurite';
export type { AzuriteEvent } from './azuriteRecovery';
export {
  startBackingServices,
  startConvoy,
  type BackingServices,
  type BackingServicesOptions,
  type Convoy,
  type ConvoyOptions,
} from './stack';
export { progressLine, progressReporter } from './progress';

/**
 * The emulator's parts that benchmarks and protocol tests measure one by one (`@convoy/servicebus-emulator/internal`).
 * Not a stable API: what a Service Bus client needs is in the front door, index.ts.
 */
export { createSasToken } from './cbs';
export { parseMessage, parseMessageWithRhea, splitBatch, splitBatchWithRhea, type ParsedMessage } from './codec';
export { loadEmulatorConfig, type NamespaceDefinition } from './config';
export { Namespace } from './namespace';
export { connectRaw, waitFor, type RawClient } from './rawClient';
export { outcome } from './rheaInternals';

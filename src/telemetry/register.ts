import { setupTelemetry } from './setup';

// Imported first by src/index.ts, so the tracer provider exists before any function module loads.
setupTelemetry();

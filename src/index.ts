// First: tracing is set up before the modules whose calls it follows are loaded (docs/tracing.md).
import './telemetry/register';
import { app } from '@azure/functions';
import { getConfig } from './config';
import { closeDependencies } from './dependencies';
import { shutdownTelemetry } from './telemetry/setup';
import { recordHttpRoutes } from './functions/http/routeTable';

// Before any function file registers (package.json `main` loads this file first): the catch-all's 405s
// come from the routes recorded here.
recordHttpRoutes();

// HTTP bodies arrive over RPC: the producer's payloads are small and bounded (≤ 1 MiB).
app.setup({ enableHttpStream: false });

// Validate every setting when the worker starts, naming the bad one, instead of on the first message
// (which would then throw on every delivery until it is dead-lettered).
app.hook.appStart(() => {
  getConfig();
});

// Close the AMQP connection when the host stops the worker, so shutdown is not held up by it.
// Spans still buffered are flushed last, so those of the closing calls are exported too.
app.hook.appTerminate(async () => {
  await closeDependencies();
  await shutdownTelemetry();
});

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

// HTTP streaming: the host forwards each request to the library's own server, so every body reaches the
// app as a stream, a chunked one too (over RPC the host hands chunked bodies on empty), and readJsonBody
// can count a body against its 1 MiB limit while reading (docs/local-host.md, the HTTP edge).
app.setup({ enableHttpStream: true });

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

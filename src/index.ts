import { app } from '@azure/functions';
import { getConfig } from './config';
import { closeDependencies } from './dependencies';

// HTTP bodies arrive over RPC: the producer's payloads are small and bounded (≤ 1 MiB).
app.setup({ enableHttpStream: false });

// Validate every setting when the worker starts, naming the bad one, instead of on the first message
// (which would then throw on every delivery until it is dead-lettered).
app.hook.appStart(() => {
  getConfig();
});

// Close the AMQP connection when the host stops the worker, so shutdown is not held up by it.
app.hook.appTerminate(async () => {
  await closeDependencies();
});

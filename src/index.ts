import { app } from '@azure/functions';
import { closeDependencies } from './dependencies';

// HTTP bodies arrive over RPC: the producer's payloads are small and bounded (≤ 1 MiB).
app.setup({ enableHttpStream: false });

// Close the AMQP connection when the host stops the worker, so shutdown is not held up by it.
app.hook.appTerminate(async () => {
  await closeDependencies();
});

import { app } from '@azure/functions';

/**
 * The same Service Bus session trigger as src/functions/processOrderEvent.ts, with a handler that
 * does nothing: the benchmark's cost hook supplies P ms, so what remains is the host loop, the
 * emulator and the SDK. Comparing with the real app isolates the app's own I/O (Azurite, durable).
 */

app.setup({ enableHttpStream: false });

app.serviceBusQueue('processOrderEvent', {
  connection: 'ServiceBusConnection',
  queueName: '%ORDER_EVENTS_QUEUE%',
  isSessionsEnabled: true,
  cardinality: 'one',
  handler: () => Promise.resolve(),
});

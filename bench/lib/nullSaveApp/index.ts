import { app, type InvocationContext } from '@azure/functions';
import { ConcurrencyConflictError } from '../../../src/adapters/ports';
import { orderCache, orderStore } from '../../../src/dependencies';
import { paidRecord } from '../orderRecords';

/**
 * The null app's trigger plus exactly one order save per event, through the app's own adapter
 * (src/dependencies orderStore: TableOrderStore on the Table SDK client tableClientFor builds, same
 * settings, same Azurite): the floor one storage write per event puts under the convoy. A basket's
 * first event creates its row, every later one replaces it with the ETag the last save returned,
 * kept in the convoy's own order cache (src/dependencies orderCache); the record is a Paid basket's,
 * built once per basket.
 */

app.setup({ enableHttpStream: false });

async function saveOnce(basketId: string): Promise<void> {
  const store = orderStore();
  const cache = orderCache();
  const last = cache.get(basketId);
  const record = last?.record ?? paidRecord(basketId);
  try {
    const etag = last === undefined ? await store.create(record) : await store.replace(record, last.etag);
    cache.set(basketId, { record, etag });
  } catch (error) {
    // A redelivery of a basket's first event, or a save this process lost track of: re-read, save again.
    if (!(error instanceof ConcurrencyConflictError)) throw error;
    const current = await store.get(basketId);
    if (current === undefined) throw error;
    cache.set(basketId, { record, etag: await store.replace(record, current.etag) });
  }
}

app.serviceBusQueue('processOrderEvent', {
  connection: 'ServiceBusConnection',
  queueName: '%ORDER_EVENTS_QUEUE%',
  isSessionsEnabled: true,
  cardinality: 'one',
  handler: async (_message: unknown, context: InvocationContext) => {
    const sessionId: unknown = context.triggerMetadata?.sessionId;
    if (typeof sessionId !== 'string' || sessionId === '')
      throw new Error(`null-save app: the trigger metadata has no session id (got ${JSON.stringify(sessionId)})`);
    await saveOnce(sessionId);
  },
});

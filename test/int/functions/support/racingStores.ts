import type { OrderStore, StoredOrder } from '../../../../src/adapters/ports';
import type { OrderRecord } from '../../../../src/domain/orderRecord';

/**
 * Two views of ONE real order store that force the lost-lock race deterministically: neither
 * consumer's read returns until both have read (so both decide on the same stored version), and
 * the second consumer's write waits until the first consumer's write has settled. Every call still
 * goes to the real adapter; only the timing is arranged.
 */
export interface RacingStores {
  first: OrderStore;
  second: OrderStore;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

export function racingStores(inner: OrderStore): RacingStores {
  let reads = 0;
  const bothRead = deferred();
  const firstWritten = deferred();

  const read = async (basketId: string): Promise<StoredOrder | undefined> => {
    const stored = await inner.get(basketId);
    reads += 1;
    if (reads === 2) bothRead.resolve();
    await bothRead.promise;
    return stored;
  };

  const afterWrite = async (write: Promise<string>): Promise<string> => {
    try {
      return await write;
    } finally {
      firstWritten.resolve();
    }
  };

  return {
    first: {
      get: read,
      create: (record: OrderRecord) => afterWrite(inner.create(record)),
      replace: (record: OrderRecord, etag: string) => afterWrite(inner.replace(record, etag)),
    },
    second: {
      get: read,
      create: async (record: OrderRecord) => {
        await firstWritten.promise;
        return inner.create(record);
      },
      replace: async (record: OrderRecord, etag: string) => {
        await firstWritten.promise;
        return inner.replace(record, etag);
      },
    },
  };
}

/** The same store, listing the basket of every read (to show when a consumer read and when it did not). */
export function countingReads(store: OrderStore): OrderStore & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    get(basketId: string): Promise<StoredOrder | undefined> {
      reads.push(basketId);
      return store.get(basketId);
    },
    create: (record: OrderRecord) => store.create(record),
    replace: (record: OrderRecord, etag: string) => store.replace(record, etag),
  };
}

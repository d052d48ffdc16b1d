import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAzurite, type AzuriteHandle } from '@convoy/dev-stack';
import { tableClientFor } from '../../../src/adapters/tableClient';
import { TableQuarantineStore, maxBodyChars } from '../../../src/adapters/tableQuarantineStore';
import type { QuarantinedMessage } from '../../../src/domain/orderRecord';

function message(
  messageId: string,
  quarantinedAt: string,
  overrides: Partial<QuarantinedMessage> = {},
): QuarantinedMessage {
  return {
    messageId,
    reason: 'body is not JSON',
    body: 'not json',
    deliveryCount: 1,
    serviceSequenceNumber: '7',
    quarantinedAt,
    ...overrides,
  };
}

describe('TableQuarantineStore against Azurite', () => {
  let azurite: AzuriteHandle;
  let store: TableQuarantineStore;

  before(async () => {
    azurite = await startAzurite();
    store = new TableQuarantineStore(
      tableClientFor({ kind: 'connectionString', connectionString: azurite.connectionString }, 'quarantine'),
    );
  });
  after(async () => {
    await azurite.close();
  });

  it('lists nothing before anything was quarantined', async () => {
    assert.deepEqual(await store.list(10), []);
  });

  it('records a redelivered message once (the first record stands), newest first, bounded by limit', async () => {
    // Message ids may hold characters Table keys forbid.
    await store.add(message('a/b#c?d\\e', '2026-01-01T00:00:01.000Z', { sessionId: 's-1' }));
    await store.add(message('a/b#c?d\\e', '2026-01-01T00:00:09.000Z', { deliveryCount: 2 }));
    await store.add(message('m-2', '2026-01-01T00:00:02.000Z'));
    await store.add(message('m-3', '2026-01-01T00:00:03.000Z'));

    const all = await store.list(10);
    assert.deepEqual(
      all.map((m) => [m.messageId, m.quarantinedAt, m.deliveryCount]),
      [
        ['m-3', '2026-01-01T00:00:03.000Z', 1],
        ['m-2', '2026-01-01T00:00:02.000Z', 1],
        ['a/b#c?d\\e', '2026-01-01T00:00:01.000Z', 1],
      ],
    );
    assert.equal(all[2]?.sessionId, 's-1');
    assert.deepEqual(
      (await store.list(2)).map((m) => m.messageId),
      ['m-3', 'm-2'],
    );
  });

  it('truncates an oversized body and keeps non-ASCII text intact across property chunks', async () => {
    await store.add(message('m-big', '2026-01-01T00:00:04.000Z', { body: 'é'.repeat(200_000) }));
    const [latest] = await store.list(1);
    assert.equal(latest?.messageId, 'm-big');
    assert.equal(latest.body.length, maxBodyChars);
    assert.match(latest.body, /^é+…\[184014 more\]$/);
  });
});

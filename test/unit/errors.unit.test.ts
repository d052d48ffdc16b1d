import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { TableClient } from '@azure/data-tables';
import { ServiceBusError } from '@azure/service-bus';
import { z } from 'zod';
import { ConcurrencyConflictError, RecordTooLargeError, UnreadableRecordError } from '../../src/adapters/ports';
import { classifyError, errorReport, errorText, failureLine } from '../../src/errors';

/** A port nothing listens on: taken, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return address.port;
}

/** What a call rejected with. */
async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  assert.fail('the call was expected to fail');
}

/** A programming error as our code makes one: reading a property of undefined. */
function typeErrorOfOurs(): unknown {
  try {
    const record = JSON.parse('{}') as { lines: { sku: string }[] };
    return record.lines[0]?.sku.length;
  } catch (error) {
    return error;
  }
}

describe('classifyError: permanent | transient | bug', () => {
  it('permanent: what the app marks so, and schema failures (zod)', () => {
    assert.equal(classifyError(new UnreadableRecordError('Stored order b-1 cannot be read')), 'permanent');
    assert.equal(classifyError(new RecordTooLargeError('too large')), 'permanent');
    assert.equal(classifyError(z.object({ sku: z.string() }).safeParse({}).error), 'permanent');
  });

  it('transient: the network as fetch and the Azure SDKs report it, SDK errors, ETag conflicts, plain errors', async () => {
    const port = await closedPort();
    const fetchFailure = await rejection(() => fetch(`http://127.0.0.1:${String(port)}/`));
    assert.ok(fetchFailure instanceof TypeError, 'fetch rejects with a TypeError whose cause is the socket error');
    assert.equal(classifyError(fetchFailure), 'transient');
    const table = TableClient.fromConnectionString(
      `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${Buffer.from('k').toString('base64')};TableEndpoint=http://127.0.0.1:${String(port)}/devstoreaccount1;`,
      'orders',
      { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } },
    );
    const restError = await rejection(() => table.getEntity('b-1', 'order'));
    assert.equal((restError as Error).name, 'RestError');
    assert.equal(classifyError(restError), 'transient');
    assert.equal(classifyError(new ServiceBusError('busy', 'ServiceBusy')), 'transient');
    assert.equal(classifyError(new ConcurrencyConflictError('b-1')), 'transient');
    assert.equal(classifyError(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })), 'transient');
    assert.equal(classifyError(new Error('HTTP 500 from the durable extension')), 'transient');
    assert.equal(classifyError('a thrown string'), 'transient');
  });

  it('bug: JavaScript programming errors of our own code', () => {
    const ours = typeErrorOfOurs();
    assert.ok(ours instanceof TypeError);
    assert.equal(classifyError(ours), 'bug');
    assert.equal(classifyError(new RangeError('Invalid array length')), 'bug');
    assert.equal(classifyError(new ReferenceError('x is not defined')), 'bug');
    assert.equal(classifyError(new SyntaxError('Unexpected token')), 'bug');
  });
});

describe('errorText, errorReport, failureLine: one way to say what failed', () => {
  it('names the error type, and a bug carries its stack', () => {
    assert.equal(errorText(new RangeError('too far')), 'RangeError: too far');
    assert.equal(errorText(new Error('plain')), 'plain');
    assert.equal(errorText('thrown text'), 'thrown text');
    assert.equal(errorText({ code: 7 }), '{"code":7}');
    assert.equal(errorText(undefined), 'undefined');
    const bug = typeErrorOfOurs();
    assert.match(errorReport(bug), /^TypeError: .+\n\s+at typeErrorOfOurs /);
    assert.equal(errorReport(new ConcurrencyConflictError('b-1')), errorText(new ConcurrencyConflictError('b-1')));
  });

  it('says retry for a transient failure, bug (with the stack) for a bug, failed for a permanent one', () => {
    assert.match(failureLine(new Error('down'), 'basket=b-1'), /^outcome=retry basket=b-1: down$/);
    assert.match(failureLine(typeErrorOfOurs(), 'basket=b-1'), /^outcome=bug basket=b-1: TypeError: .+\n\s+at /);
    assert.match(failureLine(new UnreadableRecordError('x'), 'basket=b-1'), /^outcome=failed basket=b-1: /);
  });
});

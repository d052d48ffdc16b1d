import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lazy } from '../../src/dependencies';

describe('lazy: process-wide adapters built on first use', () => {
  it('builds nothing until asked, then once; reset forgets the instance so the next use builds afresh', () => {
    let built = 0;
    const client = lazy(() => ({ id: ++built }));
    assert.equal(client.peek(), undefined);
    assert.equal(built, 0, 'making the lazy value builds nothing (a function file makes them at import)');
    const first = client();
    assert.equal(client(), first);
    assert.equal(client.peek(), first);
    assert.equal(built, 1);
    client.reset();
    assert.equal(client.peek(), undefined);
    assert.notEqual(client(), first);
    assert.equal(built, 2);
  });

  it('keeps no failed build: the error reaches that caller, and the next use builds again', () => {
    let attempts = 0;
    const client = lazy(() => {
      attempts++;
      if (attempts === 1) throw new Error('ORDERS_TABLE is not set');
      return { attempt: attempts };
    });
    assert.throws(() => client(), /ORDERS_TABLE is not set/);
    assert.equal(client.peek(), undefined);
    assert.deepEqual(client(), { attempt: 2 });
    assert.equal(attempts, 2);
  });
});

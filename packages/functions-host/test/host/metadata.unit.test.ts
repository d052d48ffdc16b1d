import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dotNetDate, stringData } from '../../src/host/serviceBus/metadata';

/** What the Node worker (@azure/functions fromRpcTypedData) makes of a `string` value. */
function workerReadsString(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

describe('Service Bus trigger metadata serialization', () => {
  it('writes dates the way Newtonsoft does for DateTime and DateTimeOffset', () => {
    const date = new Date('2026-11-26T14:28:33.990Z');
    assert.equal(dotNetDate(date, ''), '2026-11-26T14:28:33.99');
    assert.equal(dotNetDate(date, '+00:00'), '2026-11-26T14:28:33.99+00:00');
    assert.equal(dotNetDate(new Date('2026-11-26T14:28:33.000Z'), 'Z'), '2026-11-26T14:28:33Z');
  });

  it('trims only trailing zeros of the milliseconds, before 1970 too', () => {
    assert.equal(dotNetDate(new Date('2026-11-26T14:28:33.100Z'), ''), '2026-11-26T14:28:33.1');
    assert.equal(dotNetDate(new Date('2026-11-26T14:28:33.003Z'), ''), '2026-11-26T14:28:33.003');
    assert.equal(dotNetDate(new Date('2026-11-26T14:28:33.030Z'), 'Z'), '2026-11-26T14:28:33.03Z');
    assert.equal(dotNetDate(new Date('1969-12-31T23:59:59.250Z'), ''), '1969-12-31T23:59:59.25');
    assert.equal(dotNetDate(new Date('1969-12-31T23:59:59.000Z'), ''), '1969-12-31T23:59:59');
  });

  it('maps "never expires" to DateTime.MaxValue', () => {
    assert.equal(dotNetDate(new Date(8_640_000_000_000_000), ''), '9999-12-31T23:59:59.9999999');
  });

  it('sends strings so the worker reads the same value, JSON-encoding the ones it could not parse', () => {
    const notJson = [
      '3f2a9c1e-0b6d-4c4e-9a55-1d2f3e4a5b6c',
      'basket-000042:3',
      '',
      ' ',
      'tru',
      'nullx',
      '-',
      '01',
      '1.',
    ];
    const jsonLike = [
      '123',
      ' 42 ',
      '-0',
      '1e5',
      '2.50',
      'true',
      'false',
      'null',
      '{"a":1}',
      '[1,2]',
      '"q"',
      '"broken',
      '{oops',
      '\u00a07',
    ];
    for (const text of [...notJson, ...jsonLike]) {
      const data = stringData(text);
      const seen =
        'json' in data ? (JSON.parse(data.json) as unknown) : 'string' in data ? workerReadsString(data.string) : data;
      assert.deepEqual(seen, workerReadsString(text), `value the function sees for ${JSON.stringify(text)}`);
    }
    for (const text of notJson) assert.ok('json' in stringData(text), `${JSON.stringify(text)} cannot be JSON`);
    for (const text of jsonLike)
      assert.deepEqual(stringData(text), { string: text }, `${JSON.stringify(text)} stays a string`);
  });
});

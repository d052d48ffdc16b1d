import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dotNetDate } from '../../../local/host/serviceBus/metadata';

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
});

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

  it('maps "never expires" to DateTime.MaxValue', () => {
    assert.equal(dotNetDate(new Date(8_640_000_000_000_000), ''), '9999-12-31T23:59:59.9999999');
  });
});

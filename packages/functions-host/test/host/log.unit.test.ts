import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invocationLine, isHostChatter, parseLogLevel, shows } from '../../src/host/log';
import type { InvocationEvent } from '../../src';

const call: InvocationEvent = {
  functionName: 'processOrderEvent',
  invocationId: 'i-1',
  triggerType: 'serviceBusTrigger',
  startedAt: 0,
  endedAt: 4.25,
  durationMs: 4.25,
  outcome: 'succeeded',
  sessionId: 'b-1',
  sequenceNumber: 12,
  deliveryCount: 2,
};

describe('local host log lines', () => {
  it('names the broker sequence number serviceSequence and the delivery count deliveryCount', () => {
    assert.equal(
      invocationLine(call),
      'processOrderEvent  session=b-1  serviceSequence=12  deliveryCount=2  4.3 ms  ok',
    );
  });

  it('makes what the function said about the call the rest of its one line, without repeating its name', () => {
    assert.equal(
      invocationLine(call, undefined, ['processOrderEvent outcome=applied basket=b-1 sequence=3 latencyMs=41']),
      'processOrderEvent  4.3 ms  ok  outcome=applied basket=b-1 sequence=3 latencyMs=41',
    );
    assert.equal(
      invocationLine({ ...call, functionName: 'publishSessions' }, 'POST /api/sessions → 202', [
        'publishSessions: published 3 events',
      ]),
      'publishSessions  POST /api/sessions → 202  4.3 ms  ok  published 3 events',
    );
  });

  it('filters by level the way --log-level / --quiet ask', () => {
    assert.equal(shows('information', 'information'), true);
    assert.equal(shows('information', 'warning'), false);
    assert.equal(shows('error', 'warning'), true);
    assert.equal(shows('critical', 'none'), false);
    assert.equal(parseLogLevel('Warning', '--log-level'), 'warning');
    assert.throws(() => parseLogLevel('loud', '--log-level'), /--log-level must be one of trace, debug, information/);
    assert.equal(isHostChatter('session b-1 accepted by processOrderEvent'), true);
    assert.equal(isHostChatter('orchestration fulfillOrder (fulfill-b-1) Completed'), true);
    assert.equal(isHostChatter('orchestration fulfillOrder (fulfill-b-1) Failed: boom'), false);
    assert.equal(isHostChatter('session b-1 lock lost: could not complete message 3 (SessionLockLost)'), false);
  });
});

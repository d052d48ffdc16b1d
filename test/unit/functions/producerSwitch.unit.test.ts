import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { makePublishSessions } from '../../../src/functions/publishSessions';
import { RecordingEventPublisher } from '../../support/fakes';

/** TEST_PRODUCER_ENABLED=false: POST /api/sessions publishes nothing and says why. */

function post(): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: 'http://localhost/api/sessions',
    body: { string: JSON.stringify({ generate: { baskets: 1, itemsPerBasket: 1 } }) },
  });
}

describe('the test producer switch', () => {
  const context = new InvocationContext({ functionName: 'publishSessions' });

  it('switched off: 403 naming the setting, and nothing published', async () => {
    const publisher = new RecordingEventPublisher();
    const handler = makePublishSessions({
      publisher: () => publisher,
      now: () => new Date('2026-01-01T00:00:00.000Z'),
      runId: () => 'r1',
      producerEnabled: () => false,
    });
    const response = await handler(post(), context);
    assert.equal(response.status, 403);
    assert.equal(response.headers && new Headers(response.headers).get('content-type'), 'application/problem+json');
    assert.match(JSON.stringify(response.jsonBody), /TEST_PRODUCER_ENABLED=false/);
    assert.equal(publisher.published.length, 0);
  });

  it('switched on: publishes as before', async () => {
    const publisher = new RecordingEventPublisher();
    const handler = makePublishSessions({
      publisher: () => publisher,
      now: () => new Date('2026-01-01T00:00:00.000Z'),
      runId: () => 'r1',
      producerEnabled: () => true,
    });
    const response = await handler(post(), context);
    assert.equal(response.status, 202);
    assert.equal(publisher.published.length, 3);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failureDetailsOf, retryDelayMs } from '../../src/durable/failures';

describe('activity failures and retry delays', () => {
  it('takes failure details from the error itself', () => {
    const error = new TypeError('bad input');
    const details = failureDetailsOf(error);
    assert.equal(details.ErrorType, 'TypeError');
    assert.equal(details.ErrorMessage, 'bad input');
    assert.equal(details.StackTrace, error.stack);
    assert.equal(details.Properties, undefined);
  });

  it('unpacks the payload the library puts in the message when an exception-properties provider is set', () => {
    const payload = {
      errorType: 'StockError',
      errorMessage: 'out of stock',
      isNonRetriable: false,
      properties: { sku: 'A' },
    };
    const details = failureDetailsOf(new Error(JSON.stringify(payload)));
    assert.deepEqual(
      { type: details.ErrorType, message: details.ErrorMessage, properties: details.Properties },
      { type: 'StockError', message: 'out of stock', properties: { sku: 'A' } },
    );
  });

  it('grows the retry delay by the backoff coefficient up to the maximum interval', () => {
    const policy = {
      firstRetryIntervalInMilliseconds: 100,
      maxNumberOfAttempts: 5,
      backoffCoefficient: 2,
      maxRetryIntervalInMilliseconds: 500,
    };
    assert.deepEqual(
      [1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt)),
      [100, 200, 400, 500],
    );
    assert.equal(retryDelayMs({ firstRetryIntervalInMilliseconds: 2000, maxNumberOfAttempts: 5 }, 3), 2000);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeProcessedInput, parseOrchestratorFailure, parseOrchestratorResult } from '../../src/durable/actions';

describe('orchestrator results as the library returns them', () => {
  it('flattens compound actions depth-first, in the order the library numbers tasks', () => {
    const result = parseOrchestratorResult({
      isDone: false,
      schemaVersion: 2,
      actions: [
        [
          { actionType: 0, functionName: 'a', input: '"x"' },
          {
            actionType: 12,
            compoundActions: [
              { actionType: 7, instanceId: '@inventory@SKU-1', operation: 'reserve', input: { q: 1 } },
              {
                actionType: 11,
                compoundActions: [
                  { actionType: 5, fireAt: '2030-01-01T00:00:00.000Z', isCanceled: false },
                  { actionType: 6, externalEventName: 'go' },
                ],
              },
            ],
          },
          {
            actionType: 1,
            functionName: 'b',
            retryOptions: { firstRetryIntervalInMilliseconds: 10, maxNumberOfAttempts: 2 },
          },
        ],
      ],
    });
    assert.deepEqual(
      result.actions.map((a) => a.kind),
      ['callActivity', 'callEntity', 'createTimer', 'waitForExternalEvent', 'callActivity'],
    );
    assert.deepEqual(result.actions[0], { kind: 'callActivity', functionName: 'a', input: 'x', retry: undefined });
    assert.deepEqual(result.actions[4], {
      kind: 'callActivity',
      functionName: 'b',
      input: undefined,
      retry: { firstRetryIntervalInMilliseconds: 10, maxNumberOfAttempts: 2 },
    });
  });

  it('marks what the backend does not run instead of dropping it', () => {
    const result = parseOrchestratorResult({ isDone: false, actions: [[{ actionType: 8, httpRequest: {} }]] });
    assert.deepEqual(result.actions, [{ kind: 'unsupported', what: 'callHttp' }]);
    assert.throws(
      () => parseOrchestratorResult({ isDone: false, actions: [[{ actionType: 42 }]] }),
      /Unrecognized orchestrator action/,
    );
  });

  it('decodes inputs the library JSON-encoded with processInput, and leaves other values alone', () => {
    assert.equal(decodeProcessedInput('"hello"'), 'hello');
    assert.equal(decodeProcessedInput('"5"'), '5');
    assert.deepEqual(decodeProcessedInput({ a: 1 }), { a: 1 });
    assert.equal(decodeProcessedInput('not json'), 'not json');
  });

  it("reads the failure message from the state after the library's $OutOfProcData$ label", () => {
    const state = { isDone: false, actions: [[]], error: 'Error: boom', schemaVersion: 2 };
    const failure = parseOrchestratorFailure(new Error(`false\n\n$OutOfProcData$:${JSON.stringify(state)}`));
    assert.equal(failure.message, 'Error: boom');
    assert.equal(parseOrchestratorFailure(new Error('plain')).message, 'plain');
  });
});

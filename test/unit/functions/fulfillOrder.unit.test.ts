import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { InvocationContext } from '@azure/functions';
import { DummyOrchestrationContext } from 'durable-functions';
import { z } from 'zod';
import {
  fulfillOrderOrchestrator,
  makePublishInventoryUpdated,
  publishInventoryUpdatedName,
} from '../../../src/functions/fulfillOrder';
import { RecordingEventPublisher } from '../../support/fakes';

/*
 * The orchestration runs through durable-functions' own replay engine: we build the history the
 * Durable extension would persist, let the library replay the generator against it, check the
 * actions it asks for, append their results and replay again — exactly what happens in the host.
 */

// The replay engine and history classes are internals without type declarations: load them by path.
const load = createRequire(__filename);
type HistoryEvent = object;
interface EventOptions {
  eventId: number;
  timestamp: Date;
  isPlayed: boolean;
  name?: string;
  input?: string;
  instanceId?: string;
  taskScheduledId?: number;
  result?: string;
}
type HistoryCtor = new (options: EventOptions) => HistoryEvent;
const history = {
  OrchestratorStarted: (
    load('durable-functions/lib/src/history/OrchestratorStartedEvent') as { OrchestratorStartedEvent: HistoryCtor }
  ).OrchestratorStartedEvent,
  OrchestratorCompleted: (
    load('durable-functions/lib/src/history/OrchestratorCompletedEvent') as { OrchestratorCompletedEvent: HistoryCtor }
  ).OrchestratorCompletedEvent,
  ExecutionStarted: (
    load('durable-functions/lib/src/history/ExecutionStartedEvent') as { ExecutionStartedEvent: HistoryCtor }
  ).ExecutionStartedEvent,
  EventSent: (load('durable-functions/lib/src/history/EventSentEvent') as { EventSentEvent: HistoryCtor })
    .EventSentEvent,
  EventRaised: (load('durable-functions/lib/src/history/EventRaisedEvent') as { EventRaisedEvent: HistoryCtor })
    .EventRaisedEvent,
  TaskScheduled: (load('durable-functions/lib/src/history/TaskScheduledEvent') as { TaskScheduledEvent: HistoryCtor })
    .TaskScheduledEvent,
  TaskCompleted: (load('durable-functions/lib/src/history/TaskCompletedEvent') as { TaskCompletedEvent: HistoryCtor })
    .TaskCompletedEvent,
};
const testing = load('durable-functions/lib/src/util/testingUtils') as {
  createOrchestrator: (
    fn: typeof fulfillOrderOrchestrator,
  ) => (trigger: unknown, context: InvocationContext) => Promise<unknown>;
  DurableOrchestrationInput: new (instanceId: string, history: HistoryEvent[], input: unknown) => object;
};
const actionTypes = { CallActivityWithRetry: 1, CallEntity: 7, SignalEntity: 9 } as const;

const at = new Date('2026-03-01T10:00:00.000Z');
const opts = (eventId: number, extra: Partial<EventOptions> = {}): EventOptions => ({
  eventId,
  timestamp: at,
  isPlayed: false,
  ...extra,
});

const actionSchema = z.looseObject({
  actionType: z.number(),
  functionName: z.string().optional(),
  instanceId: z.string().optional(),
  operation: z.string().optional(),
  input: z.unknown(),
});
type Action = z.infer<typeof actionSchema>;
const stateSchema = z.object({ isDone: z.boolean(), actions: z.array(z.array(z.unknown())), output: z.unknown() });

/** Flattens the library's action lists (V1 schema: one list per yield, compound actions expanded). */
function flatActions(raw: unknown[][]): Action[] {
  const out: Action[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    const compound = z.object({ compoundActions: z.array(z.unknown()) }).safeParse(value);
    if (compound.success) compound.data.compoundActions.forEach(visit);
    else out.push(actionSchema.parse(value));
  };
  visit(raw);
  return out;
}

const orchestrate = testing.createOrchestrator(fulfillOrderOrchestrator);

async function replay(
  events: HistoryEvent[],
  input: unknown,
): Promise<{ isDone: boolean; actions: Action[]; output: unknown }> {
  const context = new DummyOrchestrationContext('fulfillOrder', 'inv-1', () => undefined);
  const state = stateSchema.parse(
    await orchestrate(new testing.DurableOrchestrationInput('fulfill-b-1', events, input), context),
  );
  return { isDone: state.isDone, actions: flatActions(state.actions), output: state.output };
}

/** The two events the extension records for an entity call: the request sent, the response raised. */
function entityCall(
  taskId: number,
  entity: string,
  operation: string,
  result: unknown,
): { sent: HistoryEvent; raised: HistoryEvent } {
  const requestId = `req-${String(taskId)}`;
  return {
    sent: new history.EventSent(
      opts(taskId, { name: operation, instanceId: entity, input: JSON.stringify({ id: requestId, op: operation }) }),
    ),
    raised: new history.EventRaised(
      opts(-1, { name: requestId, input: JSON.stringify({ result: JSON.stringify(result) }) }),
    ),
  };
}

/** History after the first episode: both SKUs' reserve calls sent, then answered with these replies. */
function reservationsAnswered(sku1Reply: unknown, sku2Reply: unknown): HistoryEvent[] {
  const sku1 = entityCall(0, '@inventory@SKU-1', 'reserve', sku1Reply);
  const sku2 = entityCall(1, '@inventory@SKU-2', 'reserve', sku2Reply);
  return [
    ...started(),
    new history.OrchestratorCompleted(opts(-1)),
    sku1.sent,
    sku2.sent,
    new history.OrchestratorStarted(opts(-1)),
    sku1.raised,
    sku2.raised,
  ];
}

const request = {
  basketId: 'b-1',
  // Two lines of SKU-1 must become ONE reservation of 3 (reserve is idempotent per basket).
  lines: [
    { sku: 'SKU-1', quantity: 1 },
    { sku: 'SKU-2', quantity: 4 },
    { sku: 'SKU-1', quantity: 2 },
  ],
  nextSequence: 6,
};
const started = (): HistoryEvent[] => [
  new history.OrchestratorStarted(opts(-1)),
  new history.ExecutionStarted(opts(-1, { name: 'fulfillOrder', input: JSON.stringify(request) })),
];

const actionKind = (a: Action): string =>
  a.actionType === actionTypes.CallEntity
    ? 'entity'
    : a.actionType === actionTypes.SignalEntity
      ? 'signal'
      : 'activity';
const describeAction = (a: Action): [string, string | undefined, unknown] => [
  `${actionKind(a)} ${String(a.actionType === actionTypes.CallActivityWithRetry ? a.functionName : a.instanceId)}`,
  a.operation,
  typeof a.input === 'string' ? JSON.parse(a.input) : a.input,
];

describe('fulfillOrder orchestration (durable-functions replay engine)', () => {
  it('first run: asks to reserve every SKU once, in parallel, for this basket', async () => {
    const first = await replay(started(), request);
    assert.equal(first.isDone, false);
    assert.deepEqual(first.actions.map(describeAction), [
      ['entity @inventory@SKU-1', 'reserve', { basketId: 'b-1', quantity: 3 }],
      ['entity @inventory@SKU-2', 'reserve', { basketId: 'b-1', quantity: 4 }],
    ]);
  });

  it('all reserved: publishes InventoryUpdated {reserved}, then signals every SKU to commit; replay adds nothing', async () => {
    const events = reservationsAnswered({ reserved: true, quantity: 3 }, { reserved: true, quantity: 4 });

    const second = await replay(events, request);
    assert.equal(second.isDone, false);
    const publish = second.actions.at(-1);
    assert.ok(publish);
    assert.equal(publish.actionType, actionTypes.CallActivityWithRetry);
    assert.deepEqual(describeAction(publish), [
      `activity ${publishInventoryUpdatedName}`,
      undefined,
      { basketId: 'b-1', sequence: 6, data: { outcome: 'reserved' } },
    ]);
    assert.equal(second.actions.length, 3);

    events.push(
      new history.OrchestratorCompleted(opts(-1)),
      new history.TaskScheduled(opts(2, { name: publishInventoryUpdatedName })),
      new history.OrchestratorStarted(opts(-1)),
      new history.TaskCompleted(opts(-1, { taskScheduledId: 2, result: JSON.stringify('b-1:6') })),
    );
    const done = await replay(events, request);
    assert.equal(done.isDone, true);
    assert.deepEqual(done.output, { outcome: 'reserved' });
    // The replayed run reproduces the same three actions — no second reservation, no second publish —
    // and only after the publish completed, one commit per SKU (the basket's reservations become sales).
    const commits = [
      ['signal @inventory@SKU-1', 'commit', { basketId: 'b-1' }],
      ['signal @inventory@SKU-2', 'commit', { basketId: 'b-1' }],
    ];
    assert.deepEqual(done.actions.map(describeAction), [...second.actions.map(describeAction), ...commits]);

    // With the signals recorded as sent, a further replay asks for exactly the same actions again.
    events.push(
      new history.EventSent(opts(3, { name: 'op', instanceId: '@inventory@SKU-1', input: '{}' })),
      new history.EventSent(opts(4, { name: 'op', instanceId: '@inventory@SKU-2', input: '{}' })),
    );
    const replayed = await replay(events, request);
    assert.equal(replayed.isDone, true);
    assert.deepEqual(replayed.actions.map(describeAction), done.actions.map(describeAction));
  });

  it('does not commit before the publish has completed', async () => {
    const events = reservationsAnswered({ reserved: true, quantity: 3 }, { reserved: true, quantity: 4 });
    events.push(
      new history.OrchestratorCompleted(opts(-1)),
      new history.TaskScheduled(opts(2, { name: publishInventoryUpdatedName })),
    );
    const waiting = await replay(events, request);
    assert.equal(waiting.isDone, false);
    assert.deepEqual(
      waiting.actions.filter((a) => a.actionType === actionTypes.SignalEntity),
      [],
    );
  });

  it('one SKU short: releases what was reserved, then publishes {insufficient} with the shortage', async () => {
    const events = reservationsAnswered({ reserved: true, quantity: 3 }, { reserved: false, available: 1 });

    const releasing = await replay(events, request);
    assert.equal(releasing.isDone, false);
    assert.deepEqual(releasing.actions.slice(2).map(describeAction), [
      ['entity @inventory@SKU-1', 'release', { basketId: 'b-1' }],
    ]);

    const release = entityCall(2, '@inventory@SKU-1', 'release', { released: 3 });
    events.push(
      new history.OrchestratorCompleted(opts(-1)),
      release.sent,
      new history.OrchestratorStarted(opts(-1)),
      release.raised,
    );
    const publishing = await replay(events, request);
    const shortage = { outcome: 'insufficient', shortages: [{ sku: 'SKU-2', requested: 4, available: 1 }] };
    assert.deepEqual(publishing.actions.slice(3).map(describeAction), [
      [`activity ${publishInventoryUpdatedName}`, undefined, { basketId: 'b-1', sequence: 6, data: shortage }],
    ]);

    events.push(
      new history.OrchestratorCompleted(opts(-1)),
      new history.TaskScheduled(opts(3, { name: publishInventoryUpdatedName })),
      new history.OrchestratorStarted(opts(-1)),
      new history.TaskCompleted(opts(-1, { taskScheduledId: 3, result: JSON.stringify('b-1:6') })),
    );
    const done = await replay(events, request);
    assert.equal(done.isDone, true);
    assert.deepEqual(done.output, shortage);
    // Released, so nothing to commit: the only entity messages are the reserves and the release.
    assert.equal(done.actions.length, 4);
    assert.equal(done.actions.filter((a) => a.actionType === actionTypes.SignalEntity).length, 0);
  });

  it('publishes with backoff retries so a broker outage of minutes does not fail the fulfillment', async () => {
    const empty = { basketId: 'b-1', lines: [], nextSequence: 3 };
    const run = await replay(
      [new history.OrchestratorStarted(opts(-1)), new history.ExecutionStarted(opts(-1, { name: 'fulfillOrder' }))],
      empty,
    );
    const [publish] = run.actions;
    assert.equal(run.actions.length, 1);
    assert.equal(publish?.actionType, actionTypes.CallActivityWithRetry);
    const retry = z
      .object({
        firstRetryIntervalInMilliseconds: z.number(),
        maxNumberOfAttempts: z.number(),
        backoffCoefficient: z.number(),
      })
      .parse(z.object({ retryOptions: z.unknown() }).parse(publish).retryOptions);
    assert.deepEqual(retry, {
      firstRetryIntervalInMilliseconds: 2000,
      maxNumberOfAttempts: 1500,
      backoffCoefficient: 2,
    });
  });

  it('fails the instance (not a silent success) when its input is not a fulfillment request', async () => {
    await assert.rejects(replay(started(), { basketId: 'b-1' }), /lines|nextSequence/);
  });
});

describe('publishInventoryUpdated activity', () => {
  it('publishes InventoryUpdated into the basket session with the given sequence and a deterministic id', async () => {
    const publisher = new RecordingEventPublisher();
    const activity = makePublishInventoryUpdated({ publisher: () => publisher, now: () => at });
    const context = new InvocationContext({ functionName: publishInventoryUpdatedName, logHandler: () => undefined });
    const id = await activity({ basketId: 'b-1', sequence: 6, data: { outcome: 'reserved' } }, context);
    assert.equal(id, 'b-1:6');
    assert.deepEqual(publisher.published, [
      {
        event: {
          basketId: 'b-1',
          sequence: 6,
          eventId: 'b-1:6',
          type: 'InventoryUpdated',
          occurredAt: at.toISOString(),
          data: { outcome: 'reserved' },
        },
      },
    ]);
  });

  it('rejects an input that is not a valid InventoryUpdated (the orchestration sees the failure)', async () => {
    const publisher = new RecordingEventPublisher();
    const activity = makePublishInventoryUpdated({ publisher: () => publisher, now: () => at });
    const context = new InvocationContext({ functionName: publishInventoryUpdatedName, logHandler: () => undefined });
    await assert.rejects(
      activity({ basketId: 'b-1', sequence: 6, data: { outcome: 'insufficient', shortages: [] } }, context),
    );
    assert.equal(publisher.published.length, 0);
  });
});

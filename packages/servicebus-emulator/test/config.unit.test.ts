import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEmulatorConfig, parseDuration, parseEmulatorConfig } from '../src/config';
import { matches } from '../src/namespace';
import { parseMessage, encodeMessage } from '../src/codec';

/** The shape of the official emulator's sample Config.json (trimmed), which must load unchanged. */
const officialSample = {
  UserConfig: {
    Namespaces: [
      {
        Name: 'sbemulatorns',
        Queues: [
          {
            Name: 'queue.1',
            Properties: {
              DeadLetteringOnMessageExpiration: false,
              DefaultMessageTimeToLive: 'PT1H',
              DuplicateDetectionHistoryTimeWindow: 'PT20S',
              ForwardDeadLetteredMessagesTo: '',
              ForwardTo: '',
              LockDuration: 'PT1M',
              MaxDeliveryCount: 3,
              RequiresDuplicateDetection: false,
              RequiresSession: false,
            },
          },
        ],
        Topics: [
          {
            Name: 'topic.1',
            Properties: {
              DefaultMessageTimeToLive: 'PT1H',
              DuplicateDetectionHistoryTimeWindow: 'PT20S',
              RequiresDuplicateDetection: false,
            },
            Subscriptions: [
              {
                Name: 'subscription.1',
                Properties: {
                  DeadLetteringOnMessageExpiration: false,
                  DefaultMessageTimeToLive: 'PT1H',
                  LockDuration: 'PT1M',
                  MaxDeliveryCount: 3,
                  ForwardDeadLetteredMessagesTo: '',
                  ForwardTo: '',
                  RequiresSession: false,
                },
                Rules: [
                  {
                    Name: 'app-prop-filter-1',
                    Properties: {
                      FilterType: 'Correlation',
                      CorrelationFilter: {
                        ContentType: 'application/text',
                        CorrelationId: 'id1',
                        Label: 'subject1',
                        MessageId: 'msgid1',
                        ReplyTo: 'someQueue',
                        ReplyToSessionId: 'sessionId',
                        SessionId: 'session1',
                        To: 'xyz',
                      },
                    },
                  },
                ],
              },
              {
                Name: 'subscription.2',
                Properties: { RequiresSession: false },
                Rules: [
                  {
                    Name: 'user-prop-filter-1',
                    Properties: { FilterType: 'Correlation', CorrelationFilter: { Properties: { prop3: 'value3' } } },
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
    Logging: { Type: 'File' },
  },
};

describe('emulator config', () => {
  it('parses ISO-8601 durations and TimeSpans', () => {
    assert.equal(parseDuration('PT30S', 'x'), 30_000);
    assert.equal(parseDuration('PT1M', 'x'), 60_000);
    assert.equal(parseDuration('P1DT2H', 'x'), 93_600_000);
    assert.equal(parseDuration('PT0.5S', 'x'), 500);
    assert.equal(parseDuration('00:05:00', 'x'), 300_000);
    assert.throws(() => parseDuration('30 seconds', 'Queues[0].LockDuration'), /Queues\[0\]\.LockDuration/);
    assert.throws(() => parseDuration('PT', 'x'), /ISO-8601/);
  });

  it("loads the official emulator's sample config unchanged", () => {
    const ns = parseEmulatorConfig(officialSample);
    assert.equal(ns.name, 'sbemulatorns');
    const queue = ns.queues[0];
    assert.equal(queue?.settings.lockDurationMs, 60_000);
    assert.equal(queue.settings.maxDeliveryCount, 3);
    assert.equal(queue.settings.forwardTo, undefined);
    assert.equal(queue.duplicateDetection.windowMs, 20_000);
    const subs = ns.topics[0]?.subscriptions ?? [];
    assert.deepEqual(
      subs.map((s) => s.name),
      ['subscription.1', 'subscription.2'],
    );
    assert.deepEqual(subs[1]?.rules[0]?.filter, { type: 'correlation', system: {}, properties: { prop3: 'value3' } });
  });

  it('fills defaults for absent properties and caps TTL at the 1 h quota', () => {
    const ns = parseEmulatorConfig({
      UserConfig: {
        Namespaces: [{ Name: 'n', Queues: [{ Name: 'q', Properties: { DefaultMessageTimeToLive: 'P1D' } }] }],
      },
    });
    const settings = ns.queues[0]?.settings;
    assert.deepEqual(settings, {
      requiresSession: false,
      lockDurationMs: 60_000,
      maxDeliveryCount: 10,
      defaultTtlMs: 3_600_000,
      deadLetterOnExpiration: false,
      forwardTo: undefined,
      forwardDeadLetteredTo: undefined,
    });
  });

  it('ships a default config with the app queue', () => {
    const ns = loadEmulatorConfig(undefined);
    const queue = ns.queues.find((q) => q.name === 'order-events');
    assert.ok(queue !== undefined);
    assert.deepEqual(queue.settings, {
      requiresSession: true,
      lockDurationMs: 30_000,
      maxDeliveryCount: 10,
      defaultTtlMs: 3_600_000,
      deadLetterOnExpiration: true,
      forwardTo: undefined,
      forwardDeadLetteredTo: undefined,
    });
    assert.deepEqual(queue.duplicateDetection, { enabled: true, windowMs: 600_000 });
  });

  it('names the offending field in errors', () => {
    assert.throws(
      () =>
        parseEmulatorConfig({
          UserConfig: { Namespaces: [{ Name: 'n', Queues: [{ Name: 'q', Properties: { MaxDeliveryCount: 0 } }] }] },
        }),
      /MaxDeliveryCount/,
    );
    assert.throws(
      () =>
        parseEmulatorConfig({ UserConfig: { Namespaces: [{ Name: 'n', Queues: [{ Name: 'q' }, { Name: 'Q' }] }] } }),
      /defined twice/,
    );
    assert.throws(
      () =>
        parseEmulatorConfig({
          UserConfig: {
            Namespaces: [
              {
                Name: 'n',
                Topics: [
                  {
                    Name: 't',
                    Subscriptions: [
                      {
                        Name: 's',
                        Rules: [
                          {
                            Name: 'r',
                            Properties: { FilterType: 'Sql', SqlFilter: { SqlExpression: 'a > 1 OR b LIKE "x%"' } },
                          },
                        ],
                      },
                    ],
                  },
                ],
              },
            ],
          },
        }),
      /not supported by this emulator/,
    );
    assert.throws(() => loadEmulatorConfig('/nonexistent/Config.json'), /Cannot read emulator config/);
  });

  it('evaluates correlation and SQL equality filters', () => {
    const message = parseMessage(
      encodeMessage({
        message_id: 'm',
        subject: 'BasketCheckedOut',
        application_properties: { region: 'eu', n: 3 },
        body: 'x',
      }),
    );
    assert.equal(
      matches({ type: 'correlation', system: { subject: 'BasketCheckedOut' }, properties: { region: 'eu' } }, message),
      true,
    );
    assert.equal(matches({ type: 'correlation', system: { subject: 'ItemAdded' }, properties: {} }, message), false);
    assert.equal(matches({ type: 'correlation', system: {}, properties: { region: 'us' } }, message), false);
    assert.equal(matches({ type: 'sql-equals', property: 'n', system: false, value: 3 }, message), true);
    assert.equal(matches({ type: 'sql-equals', property: 'MessageId', system: true, value: 'm' }, message), true);
    assert.equal(matches({ type: 'false' }, message), false);
  });
});

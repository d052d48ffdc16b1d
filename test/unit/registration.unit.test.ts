import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySettings, entryPointFiles, expandBraces, readSettingsFile } from '@convoy/functions-host';
import { loadRegistrations, repoRoot, type FunctionMetadata, type Registrations } from '../support/loadRegistrations';

/*
 * The registration contract: what the Functions host will see when the worker loads package.json
 * `main` (dist/, so `npm test` builds first). Each binding below is what makes the convoy work on
 * Azure — a session trigger without isSessionsEnabled, for instance, would silently lose FIFO.
 */

function trigger(metadata: FunctionMetadata) {
  const triggers = Object.values(metadata.bindings).filter((b) => b.type.toLowerCase().endsWith('trigger'));
  assert.equal(triggers.length, 1, `${metadata.name} must have exactly one trigger`);
  const [only] = triggers;
  assert.ok(only);
  return only;
}

function inputsOf(metadata: FunctionMetadata, type: string) {
  return Object.values(metadata.bindings).filter((b) => b.type === type && b.direction === 'in');
}

// Reads need a function key; operator actions (replays, restock) only the admin (master) key.
const httpFunctions = [
  { name: 'publishSessions', route: 'sessions', methods: ['POST'], durableClient: false, authLevel: 'function' },
  { name: 'getOrder', route: 'orders/{basketId}', methods: ['GET'], durableClient: false, authLevel: 'function' },
  { name: 'listQuarantine', route: 'quarantine', methods: ['GET'], durableClient: false, authLevel: 'function' },
  {
    name: 'restockInventory',
    route: 'inventory/{sku}/restock',
    methods: ['POST'],
    durableClient: true,
    authLevel: 'admin',
  },
  { name: 'getInventory', route: 'inventory/{sku}', methods: ['GET'], durableClient: true, authLevel: 'function' },
  { name: 'listDeadLetters', route: 'dead-letters', methods: ['GET'], durableClient: false, authLevel: 'function' },
  {
    name: 'listBasketDeadLetters',
    route: 'dead-letters/{basketId}',
    methods: ['GET'],
    durableClient: false,
    authLevel: 'function',
  },
  // Replays may complete a payment, so they start fulfillments like the trigger does.
  {
    name: 'replayDeadLetters',
    route: 'dead-letters/{basketId}/replay',
    methods: ['POST'],
    durableClient: true,
    authLevel: 'admin',
  },
  {
    name: 'replayQuarantined',
    route: 'quarantine/{messageId}/replay',
    methods: ['POST'],
    durableClient: true,
    authLevel: 'admin',
  },
  // The console's JSON views; stuck and timeline ask the fulfillment orchestration its status.
  { name: 'consoleOverview', route: 'console/overview', methods: ['GET'], durableClient: false, authLevel: 'function' },
  { name: 'consoleStuck', route: 'console/stuck', methods: ['GET'], durableClient: true, authLevel: 'function' },
  { name: 'consoleBaskets', route: 'console/baskets', methods: ['GET'], durableClient: false, authLevel: 'function' },
  {
    name: 'consoleTimeline',
    route: 'console/baskets/{basketId}/timeline',
    methods: ['GET'],
    durableClient: true,
    authLevel: 'function',
  },
] as const;

describe('registration contract (package.json main loaded as the Node worker loads it)', () => {
  let app: Registrations;

  before(async () => {
    assert.ok(
      existsSync(join(repoRoot, 'dist', 'src')),
      'dist/src is missing: run `npm run build` (npm test does) before this test; it checks the compiled app the host loads.',
    );
    // Like the host: app settings are in the environment before the worker loads the app.
    applySettings(readSettingsFile(repoRoot).values, {});
    app = await loadRegistrations();
  });

  it('loads index.js and every function file from dist/src, and registers nothing twice', () => {
    assert.ok(app.files.includes('dist/src/index.js'), app.files.join(', '));
    assert.ok(
      app.files.some((f) => f.startsWith('dist/src/functions/')),
      app.files.join(', '),
    );
    const names = app.functions.map((f) => f.metadata.name);
    assert.equal(new Set(names).size, names.length, names.join(', '));
    assert.ok(app.programmingModel !== undefined, 'the app must set its programming model');
  });

  it('processOrderEvent: session-enabled Service Bus queue trigger, one message at a time, with a durable client', () => {
    const metadata = app.byName('processOrderEvent');
    const binding = trigger(metadata);
    assert.equal(binding.type, 'serviceBusTrigger');
    assert.equal(binding.direction, 'in');
    assert.equal(binding['isSessionsEnabled'], true);
    assert.equal(binding['cardinality'], 'one');
    assert.equal(binding['queueName'], '%ORDER_EVENTS_QUEUE%');
    assert.equal(binding['connection'], 'ServiceBusConnection');
    assert.equal(inputsOf(metadata, 'durableClient').length, 1);
  });

  for (const expected of httpFunctions) {
    it(`${expected.name}: HTTP ${expected.methods.join(',')} /api/${expected.route}, authLevel ${expected.authLevel}`, () => {
      const metadata = app.byName(expected.name);
      const binding = trigger(metadata);
      assert.equal(binding.type, 'httpTrigger');
      assert.equal(binding['route'], expected.route);
      assert.deepEqual(binding['methods'], expected.methods);
      assert.equal(binding['authLevel'], expected.authLevel);
      const outputs = Object.values(metadata.bindings).filter((b) => b.type === 'http' && b.direction === 'out');
      assert.equal(outputs.length, 1, 'an HTTP response binding');
      assert.equal(inputsOf(metadata, 'durableClient').length, expected.durableClient ? 1 : 0);
    });
  }

  it('stuckBasketWatchdog: timer on %STUCK_WATCHDOG_SCHEDULE%, with a durable client for fulfillment status', () => {
    const metadata = app.byName('stuckBasketWatchdog');
    const binding = trigger(metadata);
    assert.equal(binding.type, 'timerTrigger');
    assert.equal(binding['schedule'], '%STUCK_WATCHDOG_SCHEDULE%');
    assert.equal(inputsOf(metadata, 'durableClient').length, 1);
  });

  it('durable functions: orchestration fulfillOrder, activity publishInventoryUpdated, entity inventory', () => {
    assert.equal(trigger(app.byName('fulfillOrder')).type, 'orchestrationTrigger');
    assert.equal(trigger(app.byName('publishInventoryUpdated')).type, 'activityTrigger');
    assert.equal(trigger(app.byName('inventory')).type, 'entityTrigger');
  });

  it('registers exactly the functions of the contract', () => {
    assert.deepEqual(app.functions.map((f) => f.metadata.name).sort(), [
      'consoleBaskets',
      'consoleOverview',
      'consolePage',
      'consoleStuck',
      'consoleTimeline',
      'fulfillOrder',
      'getInventory',
      'getOrder',
      'inventory',
      'listBasketDeadLetters',
      'listDeadLetters',
      'listQuarantine',
      'processOrderEvent',
      'publishInventoryUpdated',
      'publishSessions',
      'replayDeadLetters',
      'replayQuarantined',
      'restockInventory',
      'stuckBasketWatchdog',
      'z_unmatchedRoute',
    ]);
  });

  it('registers an appTerminate hook that closes the broker connection', () => {
    assert.ok(app.hooks.some((h) => h.name === 'appTerminate'));
  });

  it('fails at start, naming the setting, when a setting is invalid (appStart validates the config)', async () => {
    const saved = process.env.MAX_PARKED_EVENTS;
    process.env.MAX_PARKED_EVENTS = 'many';
    try {
      await assert.rejects(loadRegistrations(), /MAX_PARKED_EVENTS/);
    } finally {
      process.env.MAX_PARKED_EVENTS = saved;
    }
  });
});

describe('loadRegistrations: main expansion like the worker', () => {
  it('expands brace globs, nested ones included', () => {
    assert.deepEqual(expandBraces('dist/src/{index.js,functions/*.js}'), [
      'dist/src/index.js',
      'dist/src/functions/*.js',
    ]);
    assert.deepEqual(expandBraces('a/{b,c{1,2}}.js'), ['a/b.js', 'a/c1.js', 'a/c2.js']);
  });

  it('fails clearly when main matches no file (e.g. dist was not built), instead of loading nothing', () => {
    const root = mkdtempSync(join(tmpdir(), 'convoy-main-'));
    try {
      writeFileSync(join(root, 'package.json'), JSON.stringify({ main: 'dist/src/{index.js,functions/*.js}' }));
      assert.throws(() => entryPointFiles(root), /zero files matching.*npm run build/);
      mkdirSync(join(root, 'dist', 'src', 'functions'), { recursive: true });
      writeFileSync(join(root, 'dist', 'src', 'functions', 'b.js'), '');
      writeFileSync(join(root, 'dist', 'src', 'functions', 'a.js'), '');
      writeFileSync(join(root, 'dist', 'src', 'functions', 'a.js.map'), '');
      assert.deepEqual(entryPointFiles(root), ['dist/src/functions/a.js', 'dist/src/functions/b.js']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

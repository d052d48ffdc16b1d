import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRegistry, type AppRegistry } from '../../src/host/coreApi';
import { decodeTypedData, invokeRegistered } from '../../src/host/invoke';
import { entryPointFiles, loadApp } from '../../src/host/loadApp';
import { startLocalHost } from '../../src';
import { appStarts, hookCalls, journal } from './fixtures/app/src/journal';

const fixture = join(__dirname, 'fixtures', 'app');

describe('loading an app the way the Node worker does', () => {
  const logs: string[] = [];
  let registry: AppRegistry;

  before(async () => {
    registry = createRegistry((level, category, message, functionName) => {
      logs.push(`${category}/${level}/${functionName ?? '-'}: ${message}`);
    });
    await loadApp(fixture, registry);
  });

  it('expands the brace glob in package.json main, index first', () => {
    assert.deepEqual(entryPointFiles(fixture), [
      'src/index.ts',
      'src/functions/echo.ts',
      'src/functions/processEvent.ts',
    ]);
  });

  it('captures every registerFunction call with the bindings the library produced', () => {
    assert.deepEqual([...registry.functions.keys()].sort(), [
      'broken',
      'echo',
      'nothing',
      'processEvent',
      'processPlain',
    ]);
    const echo = registry.functions.get('echo')?.info.bindings;
    assert.ok(echo !== undefined);
    const trigger = Object.values(echo).find((b) => b.type === 'httpTrigger');
    assert.ok(trigger !== undefined);
    assert.equal(trigger.direction, 'in');
    assert.equal(trigger.route, 'items/{id:int}/{name?}');
    assert.deepEqual(trigger.methods, ['GET', 'POST']);
    assert.deepEqual(
      Object.entries(echo).map(([name, b]) => [name, b.type]),
      [
        [Object.keys(echo)[0], 'httpTrigger'],
        ['$return', 'http'],
      ],
    );
    const sb = Object.values(registry.functions.get('processEvent')?.info.bindings ?? {})[0];
    assert.ok(sb !== undefined);
    assert.equal(sb.type, 'serviceBusTrigger');
    assert.equal(sb.queueName, '%FIXTURE_SESSION_QUEUE%');
    assert.equal(sb.isSessionsEnabled, true);
  });

  it('runs appStart hooks after loading and keeps the invocation hooks', () => {
    assert.ok(appStarts.length >= 1);
    assert.equal(registry.hooks.get('preInvocation')?.length, 1);
    assert.equal(registry.hooks.get('postInvocation')?.length, 1);
  });

  it('invokes an HTTP function through the library invocation model, hooks included', async () => {
    const echo = registry.functions.get('echo');
    assert.ok(echo !== undefined);
    hookCalls.length = 0;
    const result = await invokeRegistered(registry, echo, {
      inputData: [
        {
          name: Object.keys(echo.info.bindings).find((k) => k !== '$return') ?? '',
          data: {
            http: {
              method: 'POST',
              url: 'http://localhost:7071/api/items/5?x=1',
              headers: { 'x-test': 'yes', 'content-type': 'application/json' },
              nullableHeaders: { 'x-test': { value: 'yes' }, 'content-type': { value: 'application/json' } },
              query: { x: '1' },
              nullableQuery: { x: { value: '1' } },
              params: { id: '5' },
              nullableParams: { id: { value: '5' } },
              body: { bytes: new TextEncoder().encode('{"hello":"world"}') },
            },
          },
        },
      ],
      triggerMetadata: {},
    });
    assert.deepEqual(hookCalls, ['pre:echo', 'post:echo:preInvocation']);
    assert.ok(typeof result.returnValue === 'object' && result.returnValue !== null && 'http' in result.returnValue);
    const http = result.returnValue.http;
    assert.ok(typeof http === 'object' && http !== null && 'statusCode' in http && 'body' in http);
    assert.equal(http.statusCode, '201');
    const body = decodeTypedData(http.body);
    assert.ok(Buffer.isBuffer(body));
    assert.deepEqual(JSON.parse(body.toString()), {
      method: 'POST',
      params: { id: '5' },
      query: { x: '1' },
      header: 'yes',
      body: { hello: 'world' },
      url: 'http://localhost:7071/api/items/5?x=1',
    });
    assert.ok(
      logs.some((line) => line === 'user/information/echo: echo POST 5'),
      logs.join('\n'),
    );
  });

  it('hands Service Bus trigger metadata to the handler camel-cased, as the library does', async () => {
    const fn = registry.functions.get('processEvent');
    assert.ok(fn !== undefined);
    journal.length = 0;
    await invokeRegistered(registry, fn, {
      inputData: [{ name: Object.keys(fn.info.bindings)[0] ?? '', data: { json: '{"n":1}' } }],
      triggerMetadata: {
        SessionId: { string: 'basket-1' },
        DeliveryCount: { json: '2' },
        ApplicationProperties: { json: '{"EventType":"ItemAdded"}' },
      },
    });
    const entry = journal[0];
    assert.ok(entry !== undefined);
    assert.deepEqual(entry.body, { n: 1 });
    assert.deepEqual(entry.triggerMetadata, {
      sessionId: 'basket-1',
      deliveryCount: 2,
      applicationProperties: { eventType: 'ItemAdded' },
    });
  });

  it('rejects with the handler error (after postInvocation hooks ran)', async () => {
    const fn = registry.functions.get('broken');
    assert.ok(fn !== undefined);
    hookCalls.length = 0;
    await assert.rejects(
      invokeRegistered(registry, fn, {
        inputData: [
          {
            name: Object.keys(fn.info.bindings).find((k) => k !== '$return') ?? '',
            data: {
              http: {
                method: 'GET',
                url: 'http://localhost/api/broken',
                headers: {},
                nullableHeaders: {},
                query: {},
                nullableQuery: {},
                params: {},
                nullableParams: {},
              },
            },
          },
        ],
        triggerMetadata: {},
      }),
      /broken on purpose/,
    );
    assert.deepEqual(hookCalls, ['pre:broken', 'post:broken:preInvocation']);
  });
});

describe('starting fails fast', () => {
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'local-host-'));
  });
  after(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('names an unknown %SETTING% used in a binding', async () => {
    await assert.rejects(
      startLocalHost({ appRoot: join(__dirname, 'fixtures', 'unknownSetting'), port: 0, log: () => undefined }),
      /Unknown app setting LOCAL_HOST_TEST_UNDEFINED_QUEUE: referenced by %LOCAL_HOST_TEST_UNDEFINED_QUEUE% in listenSomewhere/,
    );
  });

  it('refuses a package.json main that matches no file', async () => {
    mkdirSync(join(scratch, 'empty'));
    writeFileSync(
      join(scratch, 'empty', 'package.json'),
      JSON.stringify({ main: 'dist/src/{index.js,functions/*.js}' }),
    );
    await assert.rejects(
      startLocalHost({ appRoot: join(scratch, 'empty'), port: 0, log: () => undefined }),
      /Found zero files matching/,
    );
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  applySettings,
  describeUnknownSettings,
  readSettingsFile,
  resolveBindingExpressions,
} from '../../src/host/settings';

describe('app settings', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'local-host-settings-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('reads local.settings.json, falling back to the .example', () => {
    writeFileSync(join(root, 'local.settings.json.example'), JSON.stringify({ Values: { A: 'example', N: 3 } }));
    assert.deepEqual(readSettingsFile(root), {
      path: join(root, 'local.settings.json.example'),
      values: { A: 'example', N: '3' },
    });
    writeFileSync(join(root, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: { A: 'real' } }));
    assert.deepEqual(readSettingsFile(root).values, { A: 'real' });
  });

  it('lets the environment win over the file and overrides win over both', () => {
    process.env.LOCAL_HOST_T_ENV = 'from env';
    applySettings({ LOCAL_HOST_T_ENV: 'from file', LOCAL_HOST_T_FILE: 'from file' }, { LOCAL_HOST_T_OVR: 'override' });
    assert.equal(process.env.LOCAL_HOST_T_ENV, 'from env');
    assert.equal(process.env.LOCAL_HOST_T_FILE, 'from file');
    assert.equal(process.env.LOCAL_HOST_T_OVR, 'override');
    applySettings({}, { LOCAL_HOST_T_ENV: 'override' });
    assert.equal(process.env.LOCAL_HOST_T_ENV, 'override');
  });

  it('resolves %SETTING% expressions and reports unknown ones by name', () => {
    const bindings = {
      trigger: {
        type: 'serviceBusTrigger',
        direction: 'in',
        name: 'trigger',
        queueName: '%QUEUE%',
        connection: 'ServiceBusConnection',
      },
      out: { type: 'table', direction: 'out', tableName: 'prefix-%TABLE%-%MISSING%' },
    };
    const result = resolveBindingExpressions(bindings, 'fn', { QUEUE: 'order-events', TABLE: 'orders' });
    assert.equal(result.bindings.trigger?.queueName, 'order-events');
    assert.equal(result.bindings.out?.tableName, 'prefix-orders-%MISSING%');
    assert.deepEqual(result.unknown, [{ setting: 'MISSING', functionName: 'fn', property: 'out.tableName' }]);
    assert.equal(bindings.trigger.queueName, '%QUEUE%', 'the registered metadata stays untouched');
    assert.match(
      describeUnknownSettings(result.unknown),
      /^Unknown app setting MISSING: referenced by %MISSING% in fn \(out\.tableName\)/,
    );
  });
});

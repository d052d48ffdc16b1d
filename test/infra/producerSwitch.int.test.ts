import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { settingNames } from '../../src/config';
import { isObject, objectAt, resourcesOfType, stringAt, type ArmResource, type JsonObject } from './armTemplate';

/*
 * The test producer's switch (issue 17 item 4): main.bicep's `testProducerEnabled` must reach the
 * Function App as TEST_PRODUCER_ENABLED, as the text src/config.ts accepts ('true' / 'false'), so that
 * `testProducerEnabled=false` really switches POST /api/sessions off.
 */

const root = resolve(__dirname, '../..');
const workDir = mkdtempSync(join(tmpdir(), 'convoy-producer-switch-'));
const compiledPath = join(workDir, 'main.json');
const param = 'testProducerEnabled';
const setting = settingNames.testProducerEnabled;
let compiled: JsonObject;

/** What is wrong with how the template carries the switch; empty when nothing is. */
function checkProducerSwitch(template: JsonObject): string[] {
  const found: string[] = [];
  const declared = objectAt(objectAt(template, 'parameters'), param);
  if (declared?.type !== 'bool') found.push(`main.bicep declares no bool parameter ${param}`);
  const deployments = resourcesOfType(template, 'Microsoft.Resources/deployments').filter(
    (deployment: ArmResource) =>
      objectAt(objectAt(objectAt(deployment.body, 'properties'), 'parameters'), param) !== undefined,
  );
  const [deployment] = deployments;
  if (deployment === undefined) return [...found, `no module receives ${param}`];
  const passed = objectAt(objectAt(objectAt(deployment.body, 'properties'), 'parameters'), param);
  if (stringAt(passed, 'value') !== `[parameters('${param}')]`) {
    found.push(`the module gets ${JSON.stringify(passed)} for ${param}, not main's parameter`);
  }
  const nested = objectAt(objectAt(deployment.body, 'properties'), 'template');
  const [site] = nested === undefined ? [] : resourcesOfType(nested, 'Microsoft.Web/sites');
  const list = objectAt(objectAt(site?.body, 'properties'), 'siteConfig')?.appSettings;
  const entries: unknown[] = Array.isArray(list) ? list : [];
  const entry = entries.find((item) => stringAt(item, 'name') === setting);
  const value = isObject(entry) ? stringAt(entry, 'value') : undefined;
  // 'true' / 'false' exactly: ARM's string(bool) gives 'True', which the app's setting parser would have to guess at.
  if (value !== `[if(parameters('${param}'), 'true', 'false')]`) {
    found.push(`app setting ${setting} is ${JSON.stringify(value)}, not 'true'/'false' from ${param}`);
  }
  return found;
}

function reparse(text: string): JsonObject {
  const parsed: unknown = JSON.parse(text);
  assert.ok(isObject(parsed));
  return parsed;
}

before(() => {
  const result = spawnSync(process.execPath, [join(root, 'scripts/bicep.mjs'), '--outfile', compiledPath], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  const parsed: unknown = JSON.parse(readFileSync(compiledPath, 'utf8'));
  assert.ok(isObject(parsed));
  compiled = parsed;
});

after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('infra: the test producer switch', () => {
  it('passes testProducerEnabled (default true) through to TEST_PRODUCER_ENABLED', () => {
    assert.deepEqual(checkProducerSwitch(compiled), []);
    assert.equal(objectAt(objectAt(compiled, 'parameters'), param)?.defaultValue, true);
  });

  it('reports a switch that no longer reaches the app (a hard-coded value)', () => {
    const broken = structuredClone(compiled);
    const text = JSON.stringify(broken).replace(
      `"value":"[if(parameters('${param}'), 'true', 'false')]"`,
      '"value":"true"',
    );
    assert.notEqual(text, JSON.stringify(broken), 'the app setting expression was found to break');
    const problems = checkProducerSwitch(reparse(text));
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0] ?? '', /TEST_PRODUCER_ENABLED/);
  });

  it("reports ARM's string(bool), whose 'True' is not the app's 'true'", () => {
    const text = JSON.stringify(compiled).replace(
      `[if(parameters('${param}'), 'true', 'false')]`,
      `[string(parameters('${param}'))]`,
    );
    assert.equal(checkProducerSwitch(reparse(text)).length, 1);
  });
});

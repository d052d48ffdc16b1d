import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { settingNames } from '../../src/config';
import { readAppRequirements } from './appRequirements';
import type { AppRequirements } from './appRequirements';
import {
  checkAlerts,
  checkAppSettings,
  checkInvariants,
  checkNamespaces,
  checkNoSecrets,
  checkQueues,
  checkRoleAssignments,
  checkStorageAndMonitoring,
  checkWorkbook,
  expectedAlerts,
  expectedWorkbookSections,
  workbookItems,
} from './armInvariants';
import type { ArmResource, JsonObject } from './armTemplate';
import { isObject, objectAt, removeResource, resourcesOfType, stringAt } from './armTemplate';
import { kqlErrors } from './kqlSchema';

const root = resolve(__dirname, '../..');
const workDir = mkdtempSync(join(tmpdir(), 'convoy-infra-'));
const compiledPath = join(workDir, 'main.json');

let build: { status: number | null; output: string };
let compiled: JsonObject;
let app: AppRequirements;

/** A fresh copy to break on purpose. */
function copy(): JsonObject {
  return structuredClone(compiled);
}

function only(resources: ArmResource[], what: string): ArmResource {
  const [first] = resources;
  assert.ok(first !== undefined, `expected ${what} in the template`);
  return first;
}

function propertiesOf(resource: ArmResource): JsonObject {
  const properties = objectAt(resource.body, 'properties');
  assert.ok(properties !== undefined, `${resource.type} has no properties`);
  return properties;
}

function appSettingsOf(template: JsonObject): unknown[] {
  const site = only(resourcesOfType(template, 'Microsoft.Web/sites'), 'a Function App');
  const list = objectAt(propertiesOf(site), 'siteConfig')?.appSettings;
  assert.ok(Array.isArray(list), 'the Function App has an appSettings array');
  return list;
}

/** Adds a resource next to an existing one, in whichever shape (array or symbolic names) its template uses. */
function addBeside(neighbour: ArmResource, resource: JsonObject): void {
  const resources = neighbour.template.resources;
  if (Array.isArray(resources)) resources.push(resource);
  else if (isObject(resources)) resources.injected = resource;
  else assert.fail('the template has no resources collection');
}

function includesMatch(found: readonly string[], pattern: RegExp): boolean {
  return found.some((line) => pattern.test(line));
}

/** The alert rule (metric or log search) whose criteria watch what `expected` describes. */
function alertRule(template: JsonObject, what: string): ArmResource {
  const expected = expectedAlerts.find((alert) => alert.what === what);
  assert.ok(expected !== undefined, `no expected alert named ${what}`);
  const rule = resourcesOfType(template, expected.kind).find((candidate) => {
    const allOf = objectAt(propertiesOf(candidate), 'criteria')?.allOf;
    return Array.isArray(allOf) && allOf.filter(isObject).some(expected.watches);
  });
  assert.ok(rule !== undefined, `${what} is in the template`);
  return rule;
}

function workbookOf(template: JsonObject): ArmResource {
  return only(resourcesOfType(template, 'Microsoft.Insights/workbooks'), 'a workbook');
}

before(() => {
  // The same script CI and `npm run infra:build` run: restores Bicep from NuGet on a clean machine.
  const result = spawnSync(process.execPath, [join(root, 'scripts/bicep.mjs'), '--outfile', compiledPath], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
  });
  build = { status: result.status, output: `${result.stdout}${result.stderr}` };
  const parsed: unknown = build.status === 0 ? JSON.parse(readFileSync(compiledPath, 'utf8')) : undefined;
  compiled = isObject(parsed) ? parsed : {};
  app = readAppRequirements(root);
});

after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('infra/main.bicep', () => {
  it('compiles and lints with zero warnings', () => {
    assert.equal(build.status, 0, build.output);
    assert.match(build.output, /0 warnings, 0 errors/);
  });

  it('holds every invariant', () => {
    assert.deepEqual(checkInvariants(compiled, app), []);
  });

  it('declares the session-enabled order events queue with its delivery settings', () => {
    const queue = propertiesOf(only(resourcesOfType(compiled, 'Microsoft.ServiceBus/namespaces/queues'), 'a queue'));
    assert.equal(queue.requiresSession, true);
    assert.equal(queue.deadLetteringOnMessageExpiration, true);
    assert.equal(queue.requiresDuplicateDetection, true);
    assert.deepEqual(checkQueues(compiled), []);
  });

  it('grants only data roles, each on the narrowest scope', () => {
    const assignments = resourcesOfType(compiled, 'Microsoft.Authorization/roleAssignments');
    // App identity: 3 storage + 2 queue + 1 opt-in queue + 1 monitoring; deployer: 3 + 2 + 1 + 1 (switched off).
    assert.equal(assignments.length, 14);
    assert.deepEqual(checkRoleAssignments(compiled), []);
  });

  it('turns local auth off everywhere and outputs no secrets', () => {
    assert.deepEqual(checkNamespaces(compiled), []);
    assert.deepEqual(checkStorageAndMonitoring(compiled), []);
    assert.deepEqual(checkNoSecrets(compiled), []);
  });

  it('sets every setting and connection the app reads, identity-based', () => {
    for (const name of Object.values(settingNames)) {
      assert.ok(app.settings.has(name) || app.connections.has(name), `${name} is among the app's requirements`);
    }
    assert.ok(app.connections.has('AzureWebJobsStorage'));
    assert.deepEqual(checkAppSettings(compiled, app), []);
  });

  it('raises the alarm: an action group, four alerts wired to it, and the workbook with its sections', () => {
    assert.deepEqual(checkAlerts(compiled), []);
    assert.deepEqual(checkWorkbook(compiled), []);
    assert.equal(resourcesOfType(compiled, 'Microsoft.Insights/actionGroups').length, 1);
    assert.equal(resourcesOfType(compiled, 'Microsoft.Insights/metricAlerts').length, 1);
    assert.equal(resourcesOfType(compiled, 'Microsoft.Insights/scheduledQueryRules').length, 3);
    const names = workbookItems(workbookOf(compiled)).map((item) => item.name);
    for (const section of expectedWorkbookSections) assert.ok(names.includes(section.name), section.name);
  });

  it('gives the action group an e-mail receiver only when alertEmail is set', () => {
    const group = only(resourcesOfType(compiled, 'Microsoft.Insights/actionGroups'), 'an action group');
    const receivers = propertiesOf(group).emailReceivers;
    assert.match(String(receivers), /^\[if\(empty\(parameters\('alertEmail'\)\), createArray\(\), /);
    assert.equal(objectAt(objectAt(compiled, 'parameters'), 'alertEmail')?.defaultValue, '');
  });

  it('names in main.parameters.json exactly the parameters azd must supply', () => {
    const parametersFile: unknown = JSON.parse(readFileSync(join(root, 'infra/main.parameters.json'), 'utf8'));
    const given = Object.keys(objectAt(parametersFile, 'parameters') ?? {});
    const declared = objectAt(compiled, 'parameters') ?? {};
    for (const name of given)
      assert.ok(name in declared, `main.parameters.json sets ${name}, which main.bicep does not declare`);
    for (const [name, body] of Object.entries(declared)) {
      if (isObject(body) && !('defaultValue' in body))
        assert.ok(given.includes(name), `required parameter ${name} is not in main.parameters.json`);
    }
  });
});

describe('the invariant checks catch a broken template', () => {
  it('reports a queue without sessions', () => {
    const broken = copy();
    delete propertiesOf(only(resourcesOfType(broken, 'Microsoft.ServiceBus/namespaces/queues'), 'a queue'))
      .requiresSession;
    assert.ok(includesMatch(checkInvariants(broken, app), /requiresSession is not true/));
  });

  it('reports an Owner role assignment', () => {
    const broken = copy();
    const neighbour = only(resourcesOfType(broken, 'Microsoft.Authorization/roleAssignments'), 'a role assignment');
    addBeside(neighbour, {
      type: 'Microsoft.Authorization/roleAssignments',
      apiVersion: '2022-04-01',
      name: "[guid('owner')]",
      properties: {
        roleDefinitionId:
          "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '8e3af657-a8ff-443c-a75c-2fe8c4bcb635')]",
        principalId: "[parameters('principalId')]",
      },
    });
    const found = checkInvariants(broken, app);
    assert.ok(includesMatch(found, /mentions the Owner role/), found.join('\n'));
    assert.ok(includesMatch(found, /not on the data-role allow-list/), found.join('\n'));
  });

  it('reports a Service Bus role widened from the queue to the namespace', () => {
    const broken = copy();
    const receiver = resourcesOfType(broken, 'Microsoft.Authorization/roleAssignments').find((assignment) =>
      JSON.stringify(assignment.body).includes('4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'),
    );
    assert.ok(receiver !== undefined);
    receiver.body.scope = "[resourceId('Microsoft.ServiceBus/namespaces', parameters('serviceBusNamespaceName'))]";
    assert.ok(
      includesMatch(checkRoleAssignments(broken), /Data Receiver is scoped to Microsoft\.ServiceBus\/namespaces;/),
    );
  });

  it('reports local auth switched back on', () => {
    const broken = copy();
    propertiesOf(only(resourcesOfType(broken, 'Microsoft.ServiceBus/namespaces'), 'a namespace')).disableLocalAuth =
      false;
    propertiesOf(
      only(resourcesOfType(broken, 'Microsoft.Storage/storageAccounts'), 'a storage account'),
    ).allowSharedKeyAccess = true;
    const found = checkInvariants(broken, app);
    assert.ok(includesMatch(found, /disableLocalAuth is not true/));
    assert.ok(includesMatch(found, /allowSharedKeyAccess is not false/));
  });

  it('reports a connection string with a key, and a listKeys output', () => {
    const broken = copy();
    const settings = appSettingsOf(broken);
    settings.push({
      name: 'ServiceBusConnection',
      value: 'Endpoint=sb://x/;SharedAccessKeyName=root;SharedAccessKey=abc=',
    });
    const outputs = objectAt(broken, 'outputs');
    assert.ok(outputs !== undefined);
    outputs.STORAGE_KEY = {
      type: 'string',
      value: "[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'st'), '2023-05-01').keys[0].value]",
    };
    const found = checkInvariants(broken, app);
    assert.ok(
      includesMatch(found, /ServiceBusConnection \(used by src\/config\.ts\) is set as a connection string/),
      found.join('\n'),
    );
    assert.ok(includesMatch(found, /app setting ServiceBusConnection carries a key/), found.join('\n'));
    assert.ok(includesMatch(found, /calls listKeys\(/), found.join('\n'));
    assert.ok(includesMatch(found, /output STORAGE_KEY in main looks like it carries a secret/), found.join('\n'));
  });

  it('reports a setting the app reads that the template does not set', () => {
    const broken = copy();
    const settings = appSettingsOf(broken);
    const index = settings.findIndex((setting) => isObject(setting) && setting.name === settingNames.maxParkedEvents);
    assert.ok(index >= 0);
    settings.splice(index, 1);
    assert.ok(
      includesMatch(
        checkAppSettings(broken, app),
        /app setting MAX_PARKED_EVENTS \(read by src\/config\.ts\) is not set/,
      ),
    );
  });
});

describe('the alert and workbook checks fail when a piece is removed or miswired', () => {
  for (const expected of expectedAlerts) {
    it(`reports ${expected.what} removed`, () => {
      const broken = copy();
      removeResource(alertRule(broken, expected.what));
      const found = checkInvariants(broken, app);
      assert.ok(includesMatch(found, new RegExp(`^${expected.what} is missing`)), found.join('\n'));
    });
  }

  it('reports an alert that notifies no action group, and a missing action group', () => {
    const broken = copy();
    propertiesOf(alertRule(broken, 'the dead-letter alert')).actions = [];
    objectAt(propertiesOf(alertRule(broken, 'the held-calls alert')), 'actions')!.actionGroups = [];
    removeResource(only(resourcesOfType(broken, 'Microsoft.Insights/actionGroups'), 'an action group'));
    const found = checkAlerts(broken);
    assert.ok(includesMatch(found, /^no action group is declared/), found.join('\n'));
    assert.ok(includesMatch(found, /^the dead-letter alert does not notify the action group/), found.join('\n'));
    assert.ok(includesMatch(found, /^the held-calls alert does not notify the action group/), found.join('\n'));
  });

  it('reports the dead-letter alert on another queue or another resource', () => {
    const broken = copy();
    const rule = alertRule(broken, 'the dead-letter alert');
    const allOf = objectAt(propertiesOf(rule), 'criteria')?.allOf;
    const criterion = Array.isArray(allOf) ? allOf.find(isObject) : undefined;
    assert.ok(criterion !== undefined && Array.isArray(criterion.dimensions));
    criterion.dimensions = [{ name: 'EntityName', operator: 'Include', values: ['other-queue'] }];
    propertiesOf(rule).scopes = [
      "[resourceId('Microsoft.Storage/storageAccounts', parameters('serviceBusNamespaceName'))]",
    ];
    const found = checkAlerts(broken);
    assert.ok(includesMatch(found, /dead-letter alert does not select the order events queue/), found.join('\n'));
    assert.ok(includesMatch(found, /dead-letter alert's scope targets a Microsoft\.Storage/), found.join('\n'));
  });

  it('reports KQL the language service rejects: a workspace column, a typo', () => {
    assert.deepEqual(kqlErrors('traces | where message contains "outcome=held" | project timestamp, itemCount'), []);
    assert.ok(includesMatch(kqlErrors('traces | where Message contains "x"'), /'Message' does not refer/));
    assert.ok(includesMatch(kqlErrors('traces | summarise n = count()'), /./));
    const broken = copy();
    const allOf = objectAt(propertiesOf(alertRule(broken, 'the held-calls alert')), 'criteria')?.allOf;
    const criterion = Array.isArray(allOf) ? allOf.find(isObject) : undefined;
    assert.ok(criterion !== undefined);
    criterion.query = String(criterion.query).replace(
      '| project timestamp, itemCount',
      '| project timestamp, itemcount',
    );
    const found = checkAlerts(broken);
    assert.ok(
      includesMatch(found, /^the held-calls alert's query: The name 'itemcount' does not refer/),
      found.join('\n'),
    );
    const throughput = workbookItems(workbookOf(broken)).find((item) => item.name === 'throughput');
    const content = objectAt(throughput, 'content');
    const query = stringAt(content, 'query');
    assert.ok(content !== undefined && query !== undefined);
    content.query = query.replace('sum(itemCount)', 'sum(ItemCount)');
    assert.ok(
      includesMatch(checkWorkbook(broken), /^workbook item throughput's query: .*ItemCount/),
      checkWorkbook(broken).join('\n'),
    );
  });

  it("finds the runbook's KQL sound against the component schema", () => {
    const runbook = readFileSync(join(root, 'docs/operations.md'), 'utf8');
    const blocks = [...runbook.matchAll(/```kusto\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    assert.ok(blocks.length >= 2, 'docs/operations.md has the trace queries');
    for (const block of blocks) assert.deepEqual(kqlErrors(block), [], block);
  });

  it('reports a log alert rewritten for the workspace tables, and a stuck alert with a short window', () => {
    const broken = copy();
    const rule = alertRule(broken, 'the stuck-baskets alert');
    const allOf = objectAt(propertiesOf(rule), 'criteria')?.allOf;
    const criterion = Array.isArray(allOf) ? allOf.find(isObject) : undefined;
    assert.ok(criterion !== undefined);
    criterion.query = String(criterion.query).replace(/^traces/, 'AppTraces');
    propertiesOf(rule).windowSize = 'PT5M';
    const found = checkAlerts(broken);
    assert.ok(includesMatch(found, /stuck-baskets alert queries workspace tables/), found.join('\n'));
    assert.ok(includesMatch(found, /stuck-baskets alert window is "PT5M"/), found.join('\n'));
  });

  for (const section of expectedWorkbookSections) {
    it(`reports the workbook without its ${section.what} section`, () => {
      const broken = copy();
      const items = workbookItems(workbookOf(broken));
      const index = items.findIndex((item) => item.name === section.name);
      assert.ok(index >= 0);
      const content = objectAt(objectAt(workbookOf(broken).template, 'variables'), 'content');
      assert.ok(content !== undefined && Array.isArray(content.items));
      content.items.splice(index, 1);
      const found = checkInvariants(broken, app);
      assert.ok(
        includesMatch(found, new RegExp(`^the workbook has no .* section \\(${section.name}\\)`)),
        found.join('\n'),
      );
    });
  }

  it('reports the workbook removed, and a literal instrumentation key in it', () => {
    const withKey = copy();
    const [header] = workbookItems(workbookOf(withKey));
    const content = objectAt(header, 'content');
    assert.ok(content !== undefined);
    content.json = `${stringAt(content, 'json') ?? ''} InstrumentationKey=00000000-0000-0000-0000-000000000000`;
    assert.ok(includesMatch(checkNoSecrets(withKey), /literal secret/));
    const without = copy();
    removeResource(workbookOf(without));
    assert.ok(includesMatch(checkInvariants(without, app), /^expected one workbook, found 0/));
  });
});

describe('the scan of the app finds what its registrations use', () => {
  const fakeRoot = join(workDir, 'app');

  before(() => {
    mkdirSync(join(fakeRoot, 'src/functions'), { recursive: true });
    copyFileSync(join(root, 'host.json'), join(fakeRoot, 'host.json'));
    writeFileSync(
      join(fakeRoot, 'src/functions/processThing.ts'),
      [
        "const otherConnection = 'OtherBusConnection';",
        "app.serviceBusQueue('processThing', { connection: settingNames.serviceBusConnection, queueName: `%${settingNames.orderEventsQueue}%` });",
        "app.serviceBusQueue('processOther', { connection: otherConnection, queueName: '%OTHER_QUEUE%' });",
        "app.storageQueue('processLiteral', { connection: 'LiteralConnection', queueName: 'x' });",
        'interface Options { connection: string; }',
      ].join('\n'),
    );
  });

  it('resolves literals, settingNames references and constants', () => {
    const scanned = readAppRequirements(fakeRoot);
    assert.deepEqual(scanned.unresolved, []);
    assert.equal(scanned.settings.get('OTHER_QUEUE'), 'src/functions/processThing.ts');
    assert.ok(scanned.settings.has(settingNames.orderEventsQueue));
    assert.equal(scanned.connections.get(settingNames.serviceBusConnection)?.kind, 'serviceBus');
    assert.ok(scanned.connections.has('OtherBusConnection'));
    assert.ok(scanned.connections.has('LiteralConnection'));
  });

  it('makes the template check fail for what the template does not set', () => {
    const found = checkAppSettings(compiled, readAppRequirements(fakeRoot));
    assert.ok(includesMatch(found, /app setting OTHER_QUEUE .* is not set/), found.join('\n'));
    assert.ok(includesMatch(found, /OtherBusConnection__credential must be "managedidentity"/), found.join('\n'));
    assert.ok(includesMatch(found, /LiteralConnection__clientId is not set/), found.join('\n'));
  });

  it('reports a connection expression it cannot resolve', () => {
    writeFileSync(
      join(fakeRoot, 'src/functions/mystery.ts'),
      "app.http('x', { connection: pickConnection(), handler });\n",
    );
    const scanned = readAppRequirements(fakeRoot);
    assert.ok(
      includesMatch(scanned.unresolved, /mystery\.ts: connection: pickConnection\(\)/),
      scanned.unresolved.join('\n'),
    );
    assert.ok(includesMatch(checkAppSettings(compiled, scanned), /cannot tell which setting/));
  });
});

import type { AppRequirements, ConnectionKind } from './appRequirements';
import type { ArmResource, JsonObject } from './armTemplate';
import { kqlErrors } from './kqlSchema';
import {
  allOutputs,
  allowedValuesOf,
  arrayAt,
  asPassedIn,
  isObject,
  objectAt,
  resolveVariable,
  resourceIdParts,
  resourcesOfType,
  scopeResourceType,
  stringAt,
} from './armTemplate';

/**
 * The security and wiring invariants of infra/, checked on the compiled ARM JSON. Each check returns
 * the violations it found as sentences; an empty list means the template holds.
 */

/** Control-plane roles that must never be granted by this template. */
export const forbiddenRoles: Record<string, string> = {
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': 'Owner',
  'b24988ac-6180-42a0-ab88-20f7382dd24c': 'Contributor',
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9': 'User Access Administrator',
  'f58310d9-a9f6-439a-9e8d-f62e7b41a168': 'Role Based Access Control Administrator',
};

interface AllowedRole {
  name: string;
  /** The resource type the assignment must be scoped to: the narrowest that works for that role. */
  scope: string;
  /** Only when a parameter switches it on (its resource carries a `condition`). */
  optIn?: boolean;
}

/** The data-plane roles the template may grant, and where. */
export const allowedRoles: Record<string, AllowedRole> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': {
    name: 'Storage Blob Data Owner',
    scope: 'Microsoft.Storage/storageAccounts',
  },
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': {
    name: 'Storage Queue Data Contributor',
    scope: 'Microsoft.Storage/storageAccounts',
  },
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': {
    name: 'Storage Table Data Contributor',
    scope: 'Microsoft.Storage/storageAccounts',
  },
  '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0': {
    name: 'Azure Service Bus Data Receiver',
    scope: 'Microsoft.ServiceBus/namespaces/queues',
  },
  '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39': {
    name: 'Azure Service Bus Data Sender',
    scope: 'Microsoft.ServiceBus/namespaces/queues',
  },
  '090c5cfd-751d-490a-894a-3ce6f1109419': {
    name: 'Azure Service Bus Data Owner',
    scope: 'Microsoft.ServiceBus/namespaces/queues',
    optIn: true,
  },
  '3913510d-42f4-4e42-8a64-420c390055eb': {
    name: 'Monitoring Metrics Publisher',
    scope: 'Microsoft.Insights/components',
  },
};

const guidPattern = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function properties(resource: ArmResource): JsonObject {
  return objectAt(resource.body, 'properties') ?? {};
}

function at(resource: ArmResource): string {
  return `${resource.type} in ${resource.where}`;
}

export function checkQueues(template: JsonObject): string[] {
  const queues = resourcesOfType(template, 'Microsoft.ServiceBus/namespaces/queues');
  if (queues.length === 0) return ['no Service Bus queue is declared'];
  return queues.flatMap((queue) => {
    const p = properties(queue);
    const found: string[] = [];
    if (p.requiresSession !== true) found.push(`${at(queue)}: requiresSession is not true (the convoy needs sessions)`);
    if (p.deadLetteringOnMessageExpiration !== true)
      found.push(`${at(queue)}: deadLetteringOnMessageExpiration is not true`);
    if (p.requiresDuplicateDetection !== true) found.push(`${at(queue)}: requiresDuplicateDetection is not true`);
    for (const key of ['lockDuration', 'maxDeliveryCount', 'duplicateDetectionHistoryTimeWindow']) {
      if (p[key] === undefined) found.push(`${at(queue)}: ${key} is not set explicitly`);
    }
    return found;
  });
}

export function checkNamespaces(template: JsonObject): string[] {
  return resourcesOfType(template, 'Microsoft.ServiceBus/namespaces').flatMap((namespace) => {
    const found: string[] = [];
    if (properties(namespace).disableLocalAuth !== true)
      found.push(`${at(namespace)}: disableLocalAuth is not true (SAS keys would work)`);
    const sku = stringAt(objectAt(namespace.body, 'sku'), 'name');
    const allowed = sku === undefined ? undefined : (allowedValuesOf(sku, namespace.template) ?? [sku]);
    if (allowed === undefined) found.push(`${at(namespace)}: the SKU is not a literal or an allow-listed parameter`);
    else if (allowed.includes('Basic')) found.push(`${at(namespace)}: the SKU can be Basic, which has no sessions`);
    return found;
  });
}

export function checkStorageAndMonitoring(template: JsonObject): string[] {
  const storage = resourcesOfType(template, 'Microsoft.Storage/storageAccounts').flatMap((account) => {
    const p = properties(account);
    const found: string[] = [];
    if (p.allowSharedKeyAccess !== false) found.push(`${at(account)}: allowSharedKeyAccess is not false`);
    if (p.allowBlobPublicAccess !== false) found.push(`${at(account)}: allowBlobPublicAccess is not false`);
    return found;
  });
  const insights = resourcesOfType(template, 'Microsoft.Insights/components').flatMap((component) =>
    properties(component).DisableLocalAuth === true ? [] : [`${at(component)}: DisableLocalAuth is not true`],
  );
  return [...storage, ...insights];
}

export function checkRoleAssignments(template: JsonObject): string[] {
  const text = JSON.stringify(template).toLowerCase();
  const anywhere = Object.entries(forbiddenRoles).flatMap(([id, name]) =>
    text.includes(id) ? [`the template mentions the ${name} role (${id})`] : [],
  );
  const assignments = resourcesOfType(template, 'Microsoft.Authorization/roleAssignments').flatMap((assignment) => {
    const definition = stringAt(properties(assignment), 'roleDefinitionId') ?? '';
    const ids = definition.match(guidPattern) ?? [];
    const id = ids[0]?.toLowerCase();
    if (ids.length !== 1 || id === undefined) {
      return [`${at(assignment)}: roleDefinitionId ${definition} does not name exactly one literal built-in role id`];
    }
    const role = allowedRoles[id];
    if (role === undefined) return [`${at(assignment)}: role ${id} is not on the data-role allow-list`];
    const found: string[] = [];
    const scope = scopeResourceType(assignment.body.scope);
    if (scope === undefined)
      found.push(`${at(assignment)}: ${role.name} has no resource scope (it would cover the whole resource group)`);
    else if (scope !== role.scope)
      found.push(`${at(assignment)}: ${role.name} is scoped to ${scope}; it must be ${role.scope}`);
    if (role.optIn === true && assignment.body.condition === undefined) {
      found.push(`${at(assignment)}: ${role.name} must stay opt-in (behind a parameter)`);
    }
    return found;
  });
  return [...anywhere, ...assignments];
}

/** Secrets written out literally: an instrumentation key, a SAS or account key, a function key in a URL. */
const literalSecret = /InstrumentationKey=[0-9a-f-]{8}|SharedAccessKey=|AccountKey=|[?&]code=[\w-]/i;

export function checkNoSecrets(template: JsonObject): string[] {
  const text = JSON.stringify(template);
  const found: string[] = [];
  const secret = literalSecret.exec(text);
  if (secret !== null) found.push(`the template carries a literal secret: ...${secret[0]}...`);
  for (const match of new Set(text.match(/\blist[A-Z]\w*\(/g) ?? [])) {
    found.push(`the template calls ${match}...) which reads secrets`);
  }
  for (const output of allOutputs(template)) {
    const type = (stringAt(output.body, 'type') ?? '').toLowerCase();
    if (type.startsWith('secure')) found.push(`output ${output.name} in ${output.where} is ${type}`);
    const described = `${output.name} ${JSON.stringify(output.body.value ?? '')}`;
    if (/key|secret|password|connectionstring|sharedaccess/i.test(described)) {
      found.push(`output ${output.name} in ${output.where} looks like it carries a secret: ${described}`);
    }
  }
  return found;
}

interface AppSetting {
  name: string;
  value: unknown;
}

function appSettingsOf(site: ArmResource): AppSetting[] {
  const list = objectAt(properties(site), 'siteConfig')?.appSettings;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown) => {
    const name = stringAt(entry, 'name');
    return isObject(entry) && name !== undefined ? [{ name, value: entry.value }] : [];
  });
}

/** Identity-form settings each kind of connection needs besides `__credential` and `__clientId`. */
const endpointSettings: Record<ConnectionKind, string[][]> = {
  serviceBus: [['fullyQualifiedNamespace']],
  table: [['tableServiceUri', 'accountName']],
  hostStorage: [
    ['blobServiceUri', 'accountName'],
    ['queueServiceUri', 'accountName'],
    ['tableServiceUri', 'accountName'],
  ],
  any: [],
};

function checkConnection(name: string, kind: ConnectionKind, settings: Map<string, unknown>, source: string): string[] {
  const found: string[] = [];
  if (settings.has(name))
    found.push(
      `${name} (used by ${source}) is set as a connection string; only identity-based connections are allowed`,
    );
  if (settings.get(`${name}__credential`) !== 'managedidentity')
    found.push(`${name}__credential must be "managedidentity" (used by ${source})`);
  if (!settings.has(`${name}__clientId`))
    found.push(`${name}__clientId is not set: the user-assigned identity would not be used (${source})`);
  for (const alternatives of endpointSettings[kind]) {
    if (!alternatives.some((suffix) => settings.has(`${name}__${suffix}`))) {
      found.push(`${name}__${alternatives.join(' or __')} is not set (used by ${source})`);
    }
  }
  return found;
}

export function checkAppSettings(template: JsonObject, app: AppRequirements): string[] {
  const sites = resourcesOfType(template, 'Microsoft.Web/sites');
  if (sites.length !== 1) return [`expected one Function App, found ${sites.length}`];
  const [site] = sites;
  if (site === undefined) return [];
  const list = appSettingsOf(site);
  const settings = new Map(list.map((setting) => [setting.name, setting.value]));
  const found: string[] = app.unresolved.map(
    (expression) => `cannot tell which setting the app means by ${expression}`,
  );
  for (const setting of list) {
    const value = JSON.stringify(setting.value);
    if (/AccountKey=|SharedAccessKey|SharedAccessSignature|\blist[A-Z]\w*\(/i.test(value)) {
      found.push(`app setting ${setting.name} carries a key: ${value}`);
    }
  }
  // Flex Consumption takes the runtime from functionAppConfig and rejects these as app settings.
  for (const name of ['FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION']) {
    if (settings.has(name)) found.push(`${name} must not be an app setting on Flex Consumption`);
  }
  const runtime = objectAt(objectAt(properties(site), 'functionAppConfig'), 'runtime');
  if (stringAt(runtime, 'name') !== 'node') found.push('functionAppConfig.runtime.name is not node');
  for (const [name, source] of app.settings) {
    if (!settings.has(name)) found.push(`app setting ${name} (read by ${source}) is not set by the template`);
  }
  for (const [name, { kind, source }] of app.connections) {
    found.push(...checkConnection(name, kind, settings, source));
  }
  return found;
}

/** Every invariant at once. */
export function checkInvariants(template: JsonObject, app: AppRequirements): string[] {
  return [
    ...checkQueues(template),
    ...checkNamespaces(template),
    ...checkStorageAndMonitoring(template),
    ...checkRoleAssignments(template),
    ...checkNoSecrets(template),
    ...checkAppSettings(template, app),
    ...checkAlerts(template),
    ...checkWorkbook(template),
  ];
}

// --- Alerts and the workbook (infra/modules/alerts.bicep, workbook.bicep; docs/operations.md) ---

/** Where a rule or chart must point, and the names it must use to get there. */
interface Target {
  type: string;
  /** An expression as the main template passes it, e.g. `[reference('serviceBus').outputs.name.value]`. */
  name: string;
}

/** What an alert or chart must point at: the resource this template declares, named the way main passes it. */
function targetOf(root: JsonObject, resource: ArmResource, idExpression: unknown): Target | undefined {
  const parts = resourceIdParts(idExpression);
  return parts === undefined ? undefined : { type: parts.type, name: asPassedIn(root, resource.template, parts.name) };
}

/** The module (symbolic name) that declares the only resource of a type, e.g. `serviceBus` for namespaces. */
function declaringModule(root: JsonObject, type: string): string | undefined {
  const [declared] = resourcesOfType(root, type);
  return declared?.where.split(' > ').at(-1);
}

/** Does the target name the resource of its type that this template declares (through its module's outputs)? */
function targetProblem(root: JsonObject, what: string, target: Target | undefined, type: string): string[] {
  if (target === undefined) return [`${what} has no resourceId() target`];
  if (target.type.toLowerCase() !== type.toLowerCase()) return [`${what} targets a ${target.type}; it must be ${type}`];
  const module = declaringModule(root, type);
  const named = module !== undefined && target.name.startsWith(`[reference('${module}').outputs.`);
  return named ? [] : [`${what} targets ${target.name}, not the ${type} declared by module ${module ?? '?'}`];
}

/** The queue the Function App consumes (its ORDER_EVENTS_QUEUE setting), as main passes it. */
function appQueue(root: JsonObject): string | undefined {
  const [site] = resourcesOfType(root, 'Microsoft.Web/sites');
  if (site === undefined) return undefined;
  const list = arrayAt(objectAt(properties(site), 'siteConfig'), 'appSettings');
  const setting = list.find((entry) => stringAt(entry, 'name') === 'ORDER_EVENTS_QUEUE');
  const value = stringAt(setting, 'value');
  return value === undefined ? undefined : asPassedIn(root, site.template, value);
}

/** A dimension or filter on EntityName must select exactly the queue the app consumes. */
function queueProblem(root: JsonObject, resource: ArmResource, what: string, values: unknown): string[] {
  const queue = appQueue(root);
  const given = Array.isArray(values)
    ? values.map((value: unknown) => (typeof value === 'string' ? asPassedIn(root, resource.template, value) : value))
    : [];
  if (queue !== undefined && given.length === 1 && given[0] === queue) return [];
  return [`${what} does not select the order events queue by EntityName (${JSON.stringify(given)} vs ${queue ?? '?'})`];
}

type AlertKind = 'Microsoft.Insights/metricAlerts' | 'Microsoft.Insights/scheduledQueryRules';

interface ExpectedAlert {
  what: string;
  kind: AlertKind;
  /** The resource type the rule's scope must be. */
  scope: string;
  /** Recognises the rule by what it watches (its metric or its query). */
  watches: (criterion: JsonObject) => boolean;
  /** The rest of the rule: threshold, aggregation, window, dimensions. */
  check: (criterion: JsonObject, rule: ArmResource, root: JsonObject) => string[];
}

function expect(what: string, actual: unknown, wanted: unknown): string[] {
  return actual === wanted ? [] : [`${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`];
}

function queryOf(criterion: JsonObject): string {
  return stringAt(criterion, 'query') ?? '';
}

/** The alerts docs/operations.md documents; each must exist, watch the right signal and notify the action group. */
export const expectedAlerts: ExpectedAlert[] = [
  {
    what: 'the dead-letter alert',
    kind: 'Microsoft.Insights/metricAlerts',
    scope: 'Microsoft.ServiceBus/namespaces',
    watches: (c) => c.metricName === 'DeadletteredMessages' && c.metricNamespace === 'Microsoft.ServiceBus/namespaces',
    check: (c, rule, root) => {
      const dimensions = Array.isArray(c.dimensions) ? c.dimensions.filter(isObject) : [];
      const entity = dimensions.find((d) => d.name === 'EntityName' && d.operator === 'Include');
      return [
        ...expect('the dead-letter alert operator', c.operator, 'GreaterThan'),
        ...expect('the dead-letter alert threshold', c.threshold, 0),
        ...queueProblem(root, rule, 'the dead-letter alert', entity?.values),
      ];
    },
  },
  {
    what: 'the stuck-baskets alert',
    kind: 'Microsoft.Insights/scheduledQueryRules',
    scope: 'Microsoft.Insights/components',
    watches: (c) => /stuckBasketWatchdog/.test(queryOf(c)) && /stuckBaskets=/.test(queryOf(c)),
    check: (c, rule) => [
      ...expect('the stuck-baskets alert aggregation', c.timeAggregation, 'Minimum'),
      ...expect('the stuck-baskets alert measure', c.metricMeasureColumn, 'stuckBaskets'),
      ...expect('the stuck-baskets alert operator', c.operator, 'GreaterThan'),
      ...expect('the stuck-baskets alert threshold', c.threshold, 0),
      ...expect('the stuck-baskets alert window', properties(rule).windowSize, 'PT10M'),
    ],
  },
  {
    what: 'the held-calls alert',
    kind: 'Microsoft.Insights/scheduledQueryRules',
    scope: 'Microsoft.Insights/components',
    watches: (c) => queryOf(c).includes('"outcome=held"'),
    check: (c) => [
      // Traces are sampled: the line count is the sum of itemCount.
      ...expect('the held-calls alert aggregation', c.timeAggregation, 'Total'),
      ...expect('the held-calls alert measure', c.metricMeasureColumn, 'itemCount'),
      ...expect('the held-calls alert operator', c.operator, 'GreaterThan'),
      ...(typeof c.threshold === 'string' && c.threshold.startsWith('[parameters(')
        ? []
        : [`the held-calls alert threshold ${JSON.stringify(c.threshold)} is not a parameter`]),
    ],
  },
  {
    what: 'the function-failures alert',
    kind: 'Microsoft.Insights/scheduledQueryRules',
    scope: 'Microsoft.Insights/components',
    watches: (c) => /^\s*requests\b/.test(queryOf(c)) && /\btostring\(success\) =~ "false"/.test(queryOf(c)),
    check: (c) => {
      const dimensions = Array.isArray(c.dimensions) ? c.dimensions.filter(isObject) : [];
      return [
        ...expect('the function-failures alert operator', c.operator, 'GreaterThan'),
        ...(dimensions.some((d) => d.name === 'operation_Name')
          ? []
          : ['the function-failures alert is not split by operation_Name (the function)']),
      ];
    },
  },
];

function criteriaOf(rule: ArmResource): JsonObject[] {
  const allOf = objectAt(properties(rule), 'criteria')?.allOf;
  return Array.isArray(allOf) ? allOf.filter(isObject) : [];
}

/** Action group ids a rule notifies: metric alerts list `actions[].actionGroupId`, log rules `actions.actionGroups[]`. */
function actionGroupIds(rule: ArmResource): unknown[] {
  const actions = properties(rule).actions;
  if (Array.isArray(actions)) return actions.map((action) => (isObject(action) ? action.actionGroupId : undefined));
  const groups = objectAt(properties(rule), 'actions')?.actionGroups;
  return Array.isArray(groups) ? groups : [];
}

function wiringProblems(root: JsonObject, rule: ArmResource, expected: ExpectedAlert): string[] {
  const p = properties(rule);
  const scopes = Array.isArray(p.scopes) ? p.scopes : [];
  const found = scopes.length === 1 ? [] : [`${expected.what} has ${scopes.length} scopes; it must have one`];
  found.push(...targetProblem(root, `${expected.what}'s scope`, targetOf(root, rule, scopes[0]), expected.scope));
  if (p.enabled !== true) found.push(`${expected.what} is not enabled`);
  // The action group must be the one declared next to the rule.
  const groups = resourcesOfType(root, 'Microsoft.Insights/actionGroups').filter((g) => g.template === rule.template);
  const groupNames = groups.map((group) => stringAt(group.body, 'name'));
  const ids = actionGroupIds(rule);
  const wired =
    ids.length > 0 &&
    ids.every((id) => {
      const parts = resourceIdParts(id);
      return parts?.type === 'Microsoft.Insights/actionGroups' && groupNames.includes(parts.name);
    });
  if (!wired) found.push(`${expected.what} does not notify the action group (actions: ${JSON.stringify(ids)})`);
  if (expected.kind === 'Microsoft.Insights/scheduledQueryRules') {
    // Scoped to the component, a query sees the classic tables; the workspace names would find nothing.
    for (const criterion of criteriaOf(rule)) {
      if (/\bApp(Traces|Requests|Exceptions)\b/.test(queryOf(criterion)))
        found.push(`${expected.what} queries workspace tables but is scoped to the Application Insights component`);
      for (const error of kqlErrors(queryOf(criterion))) found.push(`${expected.what}'s query: ${error}`);
    }
  }
  return found;
}

export function checkAlerts(template: JsonObject): string[] {
  const found: string[] = [];
  if (resourcesOfType(template, 'Microsoft.Insights/actionGroups').length === 0)
    found.push('no action group is declared');
  for (const expected of expectedAlerts) {
    const rules = resourcesOfType(template, expected.kind).filter((rule) => criteriaOf(rule).some(expected.watches));
    const [rule] = rules;
    if (rule === undefined) {
      found.push(`${expected.what} is missing (no ${expected.kind} watches its signal)`);
      continue;
    }
    if (rules.length > 1) found.push(`${expected.what} is declared ${rules.length} times`);
    const criterion = criteriaOf(rule).find(expected.watches) ?? {};
    found.push(...wiringProblems(template, rule, expected), ...expected.check(criterion, rule, template));
  }
  return found;
}

/** The workbook's items, from `serializedData` (a JSON string, or `[string(variables('x'))]` over an object). */
export function workbookItems(workbook: ArmResource): JsonObject[] {
  const data = properties(workbook).serializedData;
  const variable = typeof data === 'string' ? /^\[string\((variables\('[^']+'\))\)\]$/.exec(data)?.[1] : undefined;
  let content: unknown = variable === undefined ? undefined : resolveVariable(workbook.template, `[${variable}]`);
  if (content === undefined && typeof data === 'string' && !data.startsWith('[')) content = JSON.parse(data);
  const items = isObject(content) ? content.items : undefined;
  return Array.isArray(items) ? items.filter(isObject) : [];
}

interface ExpectedSection {
  name: string;
  what: string;
  /** Query text (log items) or metric names (metric items) the section must contain. */
  shows: RegExp[];
  metrics?: boolean;
}

/** The sections docs/operations.md points operators to. */
export const expectedWorkbookSections: ExpectedSection[] = [
  { name: 'throughput', what: 'throughput', shows: [/"outcome=applied"/, /sum\(itemCount\)/] },
  { name: 'latency', what: 'publish→applied latency', shows: [/"outcome=applied"/, /latencyMs=/] },
  { name: 'backlog', what: 'backlog', shows: [/--ActiveMessages$/, /--ScheduledMessages$/], metrics: true },
  { name: 'dead-letters', what: 'dead letters', shows: [/--DeadletteredMessages$/], metrics: true },
  { name: 'stuck-baskets', what: 'stuck baskets', shows: [/stuckBasketWatchdog/, /stuckBaskets=/] },
];

function sectionProblems(
  root: JsonObject,
  workbook: ArmResource,
  item: JsonObject,
  expected: ExpectedSection,
): string[] {
  const content = objectAt(item, 'content') ?? {};
  const what = `workbook section ${expected.name}`;
  if (expected.metrics === true) {
    const metrics = Array.isArray(content.metrics) ? content.metrics.map((m) => stringAt(m, 'metric') ?? '') : [];
    const missing = expected.shows.filter((pattern) => !metrics.some((metric) => pattern.test(metric)));
    const ids = Array.isArray(content.resourceIds) ? content.resourceIds : [];
    const filters = Array.isArray(content.filters) ? content.filters.filter(isObject) : [];
    return [
      ...missing.map((pattern) => `${what} does not chart ${pattern.source}`),
      ...targetProblem(root, what, targetOf(root, workbook, ids[0]), 'Microsoft.ServiceBus/namespaces'),
      ...queueProblem(root, workbook, what, filters.find((f) => f.key === 'EntityName')?.values),
    ];
  }
  const query = stringAt(content, 'query') ?? '';
  const resources = Array.isArray(content.crossComponentResources) ? content.crossComponentResources : [];
  return [
    ...expected.shows
      .filter((pattern) => !pattern.test(query))
      .map((pattern) => `${what}'s query lacks ${pattern.source}`),
    ...targetProblem(root, what, targetOf(root, workbook, resources[0]), 'Microsoft.Insights/components'),
  ];
}

export function checkWorkbook(template: JsonObject): string[] {
  const workbooks = resourcesOfType(template, 'Microsoft.Insights/workbooks');
  const [workbook] = workbooks;
  if (workbook === undefined || workbooks.length > 1) return [`expected one workbook, found ${workbooks.length}`];
  const items = workbookItems(workbook);
  if (items.length === 0) return ['the workbook has no items (serializedData did not resolve)'];
  const sections = expectedWorkbookSections.flatMap((expected) => {
    const item = items.find((candidate) => candidate.name === expected.name);
    if (item === undefined) return [`the workbook has no ${expected.what} section (${expected.name})`];
    return sectionProblems(template, workbook, item, expected);
  });
  // Every log query of the workbook, the listed sections and the others, must be sound KQL for the component.
  const queries = items.flatMap((item) => {
    const query = stringAt(objectAt(item, 'content'), 'query');
    const name = stringAt(item, 'name') ?? '?';
    return query === undefined ? [] : kqlErrors(query).map((error) => `workbook item ${name}'s query: ${error}`);
  });
  return [...sections, ...queries];
}

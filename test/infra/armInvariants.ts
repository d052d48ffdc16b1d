import type { AppRequirements, ConnectionKind } from './appRequirements';
import type { ArmResource, JsonObject } from './armTemplate';
import {
  allOutputs,
  allowedValuesOf,
  isObject,
  objectAt,
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

export function checkNoSecrets(template: JsonObject): string[] {
  const text = JSON.stringify(template);
  const found: string[] = [];
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
  ];
}

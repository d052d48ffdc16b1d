/**
 * Just enough of the ARM template format to check a compiled Bicep file: resources (array, or the
 * symbolic-name object of languageVersion 2.0), nested module deployments, parameters and outputs.
 * Everything starts as `unknown` and is narrowed here; nothing is cast.
 */
export type Json = unknown;
export type JsonObject = Record<string, unknown>;

export function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(value: Json, key: string): JsonObject | undefined {
  if (!isObject(value)) return undefined;
  const child = value[key];
  return isObject(child) ? child : undefined;
}

export function stringAt(value: Json, key: string): string | undefined {
  if (!isObject(value)) return undefined;
  const child = value[key];
  return typeof child === 'string' ? child : undefined;
}

/** A resource with the module path it was found under, for messages ("functionApp > Microsoft.Web/sites"). */
export interface ArmResource {
  type: string;
  where: string;
  body: JsonObject;
  /** The template (main or a module's) that declares the resource: its parameters resolve expressions. */
  template: JsonObject;
}

function resourceList(template: JsonObject): JsonObject[] {
  const resources = template.resources;
  const list: unknown[] = Array.isArray(resources) ? resources : isObject(resources) ? Object.values(resources) : [];
  return list.filter(isObject);
}

function moduleName(deployment: JsonObject): string {
  const name = stringAt(deployment, 'name') ?? '?';
  // Bicep names module deployments "[format('<symbol>-{0}', ...)]"; the symbol is what a reader knows.
  return /format\('([^'-]+)-/.exec(name)?.[1] ?? name;
}

/** Every resource in the template and in every nested deployment, depth first. `existing` ones are skipped. */
export function allResources(template: JsonObject, where = 'main'): ArmResource[] {
  return resourceList(template).flatMap((body): ArmResource[] => {
    if (body.existing === true) return [];
    const type = stringAt(body, 'type') ?? '?';
    const self: ArmResource = { type, where, body, template };
    const nested = objectAt(objectAt(body, 'properties'), 'template');
    if (type === 'Microsoft.Resources/deployments' && nested !== undefined) {
      return [self, ...allResources(nested, `${where} > ${moduleName(body)}`)];
    }
    return [self];
  });
}

export function resourcesOfType(template: JsonObject, type: string): ArmResource[] {
  return allResources(template).filter((resource) => resource.type.toLowerCase() === type.toLowerCase());
}

export interface ArmOutput {
  name: string;
  where: string;
  body: JsonObject;
}

/** Outputs of the main template and of every module. */
export function allOutputs(template: JsonObject): ArmOutput[] {
  const own = (t: JsonObject, where: string): ArmOutput[] => {
    const outputs = objectAt(t, 'outputs') ?? {};
    return Object.entries(outputs).flatMap(([name, body]) => (isObject(body) ? [{ name, where, body }] : []));
  };
  const nested = allResources(template).flatMap((resource) => {
    const inner = objectAt(objectAt(resource.body, 'properties'), 'template');
    return resource.type === 'Microsoft.Resources/deployments' && inner !== undefined
      ? own(inner, `${resource.where} > ${moduleName(resource.body)}`)
      : [];
  });
  return [...own(template, 'main'), ...nested];
}

/** `[parameters('x')]` → the allowed values of parameter x in the declaring template, if it has any. */
export function allowedValuesOf(expression: string, template: JsonObject): unknown[] | undefined {
  const name = /^\[parameters\('([^']+)'\)\]$/.exec(expression)?.[1];
  if (name === undefined) return undefined;
  const allowed = objectAt(objectAt(template, 'parameters'), name)?.allowedValues;
  return Array.isArray(allowed) ? allowed : undefined;
}

/**
 * The resource type a role assignment's `scope` expression points at. Bicep writes extension scopes as
 * `[resourceId('Microsoft.X/y/z', ...)]` (or `[format('Microsoft.X/y/{0}/z/{1}', ...)]` in older output).
 */
export function scopeResourceType(scope: Json): string | undefined {
  if (typeof scope !== 'string') return undefined;
  const byResourceId = /^\[resourceId\('([^']+)'/.exec(scope)?.[1];
  if (byResourceId !== undefined) return byResourceId;
  const byFormat = /^\[format\('([^']+)'/.exec(scope)?.[1];
  if (byFormat !== undefined) {
    // Provider namespace, then alternating type segment / name placeholder.
    const [provider, ...rest] = byFormat.split('/');
    return [provider, ...rest.filter((_, index) => index % 2 === 0)].join('/');
  }
  return undefined;
}

/** The module deployment whose nested template is `template`; undefined for the main template. */
export function deploymentDeclaring(root: JsonObject, template: JsonObject): ArmResource | undefined {
  return allResources(root).find(
    (resource) =>
      resource.type === 'Microsoft.Resources/deployments' &&
      objectAt(objectAt(resource.body, 'properties'), 'template') === template,
  );
}

/**
 * An expression as the main template passes it: `[parameters('x')]` inside a module becomes the value the
 * module's deployment gives x (one level, which is all main.bicep's modules have). Anything else is kept.
 */
export function asPassedIn(root: JsonObject, template: JsonObject, expression: string): string {
  const name = /^\[parameters\('([^']+)'\)\]$/.exec(expression)?.[1];
  if (name === undefined) return expression;
  const deployment = deploymentDeclaring(root, template);
  const value = objectAt(objectAt(objectAt(deployment?.body, 'properties'), 'parameters'), name)?.value;
  return typeof value === 'string' ? value : expression;
}

/** `[resourceId('Microsoft.X/y', parameters('n'))]` → the type and the name expression (`[parameters('n')]`). */
export function resourceIdParts(expression: Json): { type: string; name: string } | undefined {
  if (typeof expression !== 'string') return undefined;
  const match = /^\[resourceId\('([^']+)', (.+)\)\]$/.exec(expression);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { type: match[1], name: `[${match[2]}]` };
}

/** `[variables('x')]` → the variable's value in the declaring template; anything else as it is. */
export function resolveVariable(template: JsonObject, value: Json): Json {
  const name = typeof value === 'string' ? /^\[variables\('([^']+)'\)\]$/.exec(value)?.[1] : undefined;
  if (name === undefined) return value;
  return objectAt(template, 'variables')?.[name];
}

/** Takes one resource (found by its body) out of the template that declares it, in either resources shape. */
export function removeResource(resource: ArmResource): void {
  const resources = resource.template.resources;
  if (Array.isArray(resources)) {
    resource.template.resources = resources.filter((body: unknown) => body !== resource.body);
  } else if (isObject(resources)) {
    resource.template.resources = Object.fromEntries(
      Object.entries(resources).filter(([, body]) => body !== resource.body),
    );
  }
}

/** The array at `key`, or an empty one. */
export function arrayAt(value: Json, key: string): unknown[] {
  if (!isObject(value)) return [];
  const child = value[key];
  return Array.isArray(child) ? child.map((entry: unknown) => entry) : [];
}

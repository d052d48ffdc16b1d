import { app, type HttpFunctionOptions, type HttpHandler, type HttpMethod } from '@azure/functions';

/**
 * The app's own HTTP routes, recorded as the functions register them, so the catch-all
 * (`unmatchedRoute.ts`) can tell "no such route" (404) from "route exists, other method" (405) without a
 * hand-kept list: a function added anywhere in `src/functions` is covered by registering as usual.
 *
 * Recording wraps the library's registration calls (`app.http`, `app.get`, …) once: from `src/index.ts`
 * (first in package.json `main`) and from `problem.ts`, which every HTTP function imports, so it is in
 * place before they register whatever order the files load in. Route templates are matched the way the host's router does it: literal segments
 * case-insensitively, `{name}` one non-empty segment, `{name?}` and `{*rest}` optional.
 */

export interface KnownRoute {
  functionName: string;
  /** The template as registered, relative to the route prefix (`orders/{basketId}`). */
  route: string;
  /** Upper-case methods; the library's default is GET and POST. */
  methods: readonly string[];
}

const known: KnownRoute[] = [];
const registrationNames = ['http', 'get', 'put', 'post', 'patch', 'deleteRequest'] as const;
const shortcutMethod: Record<string, HttpMethod> = {
  get: 'GET',
  put: 'PUT',
  post: 'POST',
  patch: 'PATCH',
  deleteRequest: 'DELETE',
};
const defaultMethods: readonly HttpMethod[] = ['GET', 'POST'];

type Registration = (name: string, options: HttpFunctionOptions | HttpHandler) => void;

function record(registration: string, name: string, options: HttpFunctionOptions | HttpHandler): void {
  const shortcut = shortcutMethod[registration];
  const init = typeof options === 'function' ? undefined : options;
  const methods = shortcut === undefined ? (init?.methods ?? defaultMethods) : [shortcut];
  known.push({ functionName: name, route: init?.route ?? name, methods: methods.map((m) => m.toUpperCase()) });
}

let installed = false;

/** Starts recording HTTP registrations; idempotent. Registrations made before the first call are not seen. */
export function recordHttpRoutes(): void {
  if (installed) return;
  installed = true;
  for (const registration of registrationNames) {
    const original: unknown = Reflect.get(app, registration);
    if (typeof original !== 'function') throw new Error(`@azure/functions has no app.${registration} to record.`);
    const wrapped: Registration = (name, options) => {
      record(registration, name, options);
      Reflect.apply(original, app, [name, options]);
    };
    Reflect.set(app, registration, wrapped);
  }
}

export function knownRoutes(): readonly KnownRoute[] {
  return known;
}

/** Whether `path` (relative to the route prefix, already percent-decoded by the host) fits `template`. */
export function routeMatches(template: string, path: string): boolean {
  const parts = template.replace(/^\/+|\/+$/g, '').split('/');
  // One trailing slash is ignored, as by the host's router; an empty segment inside the path is kept.
  const segments = path.replace(/^\/+/, '').replace(/\/$/, '').split('/');
  for (const [index, part] of parts.entries()) {
    const param = /^\{(\*?)[^}?=]*(\?|=[^}]*)?\}$/.exec(part);
    if (param?.[1] === '*') return true;
    const segment = segments[index];
    if (param !== null) {
      if (segment === undefined || segment === '') return param[2] !== undefined && index === segments.length;
    } else if (segment === undefined || segment.toLowerCase() !== part.toLowerCase()) {
      return false;
    }
  }
  return segments.length === parts.length;
}

/** The methods other functions accept on `path`, sorted; empty when no route of the app has this path. */
export function allowedMethods(path: string, routes: readonly KnownRoute[] = known): string[] {
  const methods = routes.filter((r) => routeMatches(r.route, path)).flatMap((r) => r.methods);
  return [...new Set(methods)].sort();
}

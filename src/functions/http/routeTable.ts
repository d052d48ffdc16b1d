import { app, type HttpFunctionOptions, type HttpMethod } from '@azure/functions';

/**
 * The app's own HTTP routes, recorded as the functions register them, so the catch-all
 * (`unmatchedRoute.ts`) can tell "no such route" (404) from "route exists, other method" (405) without a
 * hand-kept list: every HTTP function registers through `registerHttp` (lint refuses `app.http` and its
 * shortcuts elsewhere in src/). Route templates are matched the way the host's router does it: literal
 * segments case-insensitively, `{name}` one non-empty segment, `{name?}` and `{*rest}` optional.
 */

export interface KnownRoute {
  functionName: string;
  /** The template as registered, relative to the route prefix (`orders/{basketId}`). */
  route: string;
  /** Upper-case methods; the library's default is GET and POST. */
  methods: readonly string[];
}

const known: KnownRoute[] = [];
const defaultMethods: readonly HttpMethod[] = ['GET', 'POST'];

/** Registers an HTTP function with the host (`app.http`) and records its route for the catch-all. */
export function registerHttp(name: string, options: HttpFunctionOptions): void {
  const methods = options.methods ?? defaultMethods;
  known.push({ functionName: name, route: options.route ?? name, methods: methods.map((m) => m.toUpperCase()) });
  app.http(name, options);
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

import type { HttpMethod, HttpRequest, HttpResponseInit } from '@azure/functions';
import { problem } from './http/problem';
import { allowedMethods, knownRoutes, registerHttp, type KnownRoute } from './http/routeTable';

/**
 * `/api/{*path}`, every method a Node function can take: answers what no other function answers, as problem+json — 404 for a
 * path no route has, 405 with `Allow` for a route that exists with other methods. Without it the host
 * answers both with a bare 404.
 *
 * The host tries function routes one by one in the order of the function NAMES (case-insensitive ordinal;
 * the first route whose template and method fit wins; see docs/local-host.md), not by how specific a
 * template is. So this function's name must sort after every other HTTP function's name, or it would
 * answer for them: `z_` sorts after any name of letters and digits (`_` is above `Z`).
 */

export const unmatchedRouteName = 'z_unmatchedRoute';
/**
 * Every method a Node function can receive. Not TRACE or CONNECT: the library builds each request as a
 * fetch `Request`, which refuses them, so the invocation would fail (500); unlisted, they fall through
 * to the host's plain 404.
 */
const everyMethod: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

export function makeUnmatchedRoute(
  routes: () => readonly KnownRoute[],
): (request: HttpRequest) => Promise<HttpResponseInit> {
  return (request) => {
    const path = request.params.path ?? '';
    const shown = new URL(request.url).pathname;
    const others = routes().filter((route) => route.functionName !== unmatchedRouteName);
    const allow = allowedMethods(path, others);
    if (allow.length === 0) {
      return Promise.resolve(
        problem({ status: 404, type: 'not-found', title: 'Not found', detail: `No route answers ${shown}.` }),
      );
    }
    return Promise.resolve(
      problem({
        status: 405,
        type: 'method-not-allowed',
        title: 'Method not allowed',
        detail: `${request.method} is not allowed on ${shown}; allowed: ${allow.join(', ')}.`,
        headers: { allow: allow.join(', ') },
      }),
    );
  };
}

export const unmatchedRoute = makeUnmatchedRoute(knownRoutes);

registerHttp(unmatchedRouteName, {
  route: '{*path}',
  methods: everyMethod,
  authLevel: 'anonymous',
  handler: unmatchedRoute,
});

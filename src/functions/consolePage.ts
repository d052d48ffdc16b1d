import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { consoleContentSecurityPolicy, consolePageHtml } from '../console/page';
import { registerHttp } from './http/routeTable';

/**
 * GET /api/console — the operator's console: one self-contained page that polls the console JSON API
 * (console/overview, console/stuck, console/baskets, dead-letters, quarantine, inventory). In Azure it
 * needs a key like the APIs it reads (`?code=<key>`; the page sends it on as `x-functions-key`).
 */

export const consolePageName = 'consolePage';

export const consolePageHeaders: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': consoleContentSecurityPolicy,
  // The page's URL may carry ?code=<key>: never send it on as a Referer, never cache the page.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

export function getConsolePage(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  return Promise.resolve({ status: 200, headers: consolePageHeaders, body: consolePageHtml });
}

registerHttp(consolePageName, {
  route: 'console',
  methods: ['GET'],
  authLevel: 'function',
  handler: getConsolePage,
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { before, describe, it } from 'node:test';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import ignore from 'ignore';
import { consolePageName, getConsolePage } from '../../../src/functions/consolePage';
import { applySettings, readSettingsFile } from '@convoy/functions-host';
import { loadRegistrations, repoRoot, type Registrations } from '../../support/loadRegistrations';

/** The page as the function serves it; the browser test (test/e2e/console.e2e.test.ts) runs it. */
async function servedPage(): Promise<{ response: HttpResponse; html: string }> {
  const request = new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/console' });
  const context = new InvocationContext({ functionName: consolePageName, logHandler: () => undefined });
  const response = new HttpResponse(await getConsolePage(request, context));
  return { response, html: await response.text() };
}

function only(html: string, tag: 'script' | 'style'): string {
  const found = [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
  assert.equal(found.length, 1, `exactly one inline <${tag}>`);
  return found[0] ?? '';
}

const hashOf = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

describe('consolePage', () => {
  it('serves one HTML page whose CSP allows exactly its inline script and style, nothing else', async () => {
    const { response, html } = await servedPage();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    assert.equal(directives.get('default-src'), "'none'");
    assert.equal(directives.get('script-src'), hashOf(only(html, 'script')));
    assert.equal(directives.get('style-src'), hashOf(only(html, 'style')));
    assert.equal(directives.get('connect-src'), "'self'");
    assert.equal(directives.get('frame-ancestors'), "'none'");
    // The page's URL may carry ?code=<key>: it must not leak as a Referer nor sit in a cache.
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)="(?!data:)/, 'loads nothing from elsewhere');
  });

  it('ships a script that parses and never renders through HTML parsing', async () => {
    const script = only((await servedPage()).html, 'script');
    assert.doesNotThrow(() => new Script(script, { filename: 'console.js' }));
    assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    // Keys travel in a header, never in a URL the page builds.
    assert.match(script, /'x-functions-key'/);
    assert.doesNotMatch(script, /\.set\('code'|code=' \+/);
  });

  describe('as the worker loads it', () => {
    let app: Registrations;
    before(async () => {
      assert.ok(existsSync(join(repoRoot, 'dist', 'src')), 'dist/src is missing: run `npm run build` first.');
      applySettings(readSettingsFile(repoRoot).values, {});
      app = await loadRegistrations();
    });

    it('is GET /api/console with authLevel function, and its compiled assets are deployed', () => {
      const binding = Object.values(app.byName(consolePageName).bindings).find((b) => b.type === 'httpTrigger');
      assert.ok(binding !== undefined);
      assert.equal(binding['route'], 'console');
      assert.deepEqual(binding['methods'], ['GET']);
      assert.equal(binding['authLevel'], 'function');
      const funcignore = ignore().add(readFileSync(join(repoRoot, '.funcignore'), 'utf8'));
      for (const file of [
        'dist/src/functions/consolePage.js',
        'dist/src/console/page.js',
        'dist/src/console/script.js',
      ]) {
        assert.ok(existsSync(join(repoRoot, file)), `${file} is built`);
        assert.ok(!funcignore.ignores(file), `${file} is deployed`);
      }
    });
  });
});

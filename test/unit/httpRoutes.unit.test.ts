import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { applySettings, readSettingsFile } from '@convoy/functions-host';
import { loadRegistrations, repoRoot, type Registrations } from '../support/loadRegistrations';

/*
 * The catch-all must never answer for a real route. The Functions host tries HTTP routes in the order
 * of the function names (StringComparer.OrdinalIgnoreCase) and takes the first that fits, so the
 * catch-all's name must sort after every other HTTP function's name (docs/local-host.md).
 */

const ordinalIgnoreCase = (a: string, b: string): number => {
  const [x, y] = [a.toUpperCase(), b.toUpperCase()];
  return x < y ? -1 : x > y ? 1 : 0;
};

describe('HTTP route table of the app (package.json main loaded as the worker loads it)', () => {
  let app: Registrations;

  before(async () => {
    assert.ok(existsSync(join(repoRoot, 'dist', 'src')), 'dist/src is missing: run `npm run build` first.');
    applySettings(readSettingsFile(repoRoot).values, {});
    app = await loadRegistrations();
  });

  const httpTriggers = () =>
    app.functions.flatMap((f) => {
      const trigger = Object.values(f.metadata.bindings).find((b) => b.type === 'httpTrigger');
      return trigger === undefined ? [] : [{ name: f.metadata.name, trigger }];
    });

  it('has a catch-all {*path} for every method a Node function can receive, anonymous', () => {
    const catchAll = httpTriggers().find((f) => f.trigger.route === '{*path}');
    assert.ok(catchAll, 'no function with route {*path}');
    assert.equal(catchAll.name, 'z_unmatchedRoute');
    assert.deepEqual([...(catchAll.trigger.methods as string[])].sort(), [
      'DELETE',
      'GET',
      'HEAD',
      'OPTIONS',
      'PATCH',
      'POST',
      'PUT',
    ]);
    assert.equal(catchAll.trigger.authLevel, 'anonymous');
  });

  it('sorts the catch-all after every other HTTP function, so the host tries it last', () => {
    const ordered = httpTriggers()
      .map((f) => f.name)
      .sort(ordinalIgnoreCase);
    assert.ok(ordered.length > 1, ordered.join(', '));
    assert.equal(ordered.at(-1), 'z_unmatchedRoute', ordered.join(', '));
  });
});

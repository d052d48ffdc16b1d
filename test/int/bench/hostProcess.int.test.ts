import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appRoot, startStack, type Stack } from '../../../bench/lib/stack';

/**
 * The soak counts a host process that dies on its own as a failure (it was silent once): the
 * parent must hear of an exit it did not cause, with how it ended, and not of the ones it caused.
 */

describe('host process: exits the parent did not cause are reported', { timeout: 120_000 }, () => {
  let stack: Stack;
  before(async () => {
    const hostJson: unknown = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8'));
    stack = await startStack({ appRoot: join(appRoot, 'bench/lib/nullApp'), hostJson });
  });
  after(async () => {
    await stack.stop();
  });

  it('a SIGKILL from outside is reported with its signal; kill() and stop() are not reported', async () => {
    const reports: string[] = [];
    const first = stack.host;
    first.onUnexpectedExit((how) => reports.push(`first: ${how}`));
    await first.kill();
    assert.equal(reports.length, 0);

    const second = await stack.restartHost();
    const reported = new Promise<string>((resolve) => {
      second.onUnexpectedExit((how, stderrTail) => {
        reports.push(`second: ${how}`);
        resolve(stderrTail);
      });
    });
    process.kill(second.pid, 'SIGKILL');
    await reported;
    assert.deepEqual(reports, ['second: exit code null, signal SIGKILL']);

    const third = await stack.restartHost();
    third.onUnexpectedExit((how) => reports.push(`third: ${how}`));
    await third.stop();
    assert.equal(reports.length, 1);
    // stack.stop() stops the stopped third host again: a no-op.
  });
});

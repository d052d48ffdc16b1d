import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as rhea from 'rhea';
import { appRoot, startStack, type Stack } from '../../harness/stack';

/**
 * The soak counts a host process that dies on its own as a failure (it was silent once): the
 * parent must hear of an exit it did not cause, with how it ended, and not of the ones it caused.
 */

/**
 * An AMQP detach (handle 0, closed) framed for channel 40: size 16, doff 2, type AMQP, channel 0x0028,
 * then the performative (descriptor 0x16, a list8 of uint0 and true). No client library sends it on a
 * channel without a session, so the test writes the bytes itself.
 */
const detachOnChannel40 = Buffer.from([
  0x00, 0x00, 0x00, 0x10, 0x02, 0x00, 0x00, 0x28, 0x00, 0x53, 0x16, 0xc0, 0x03, 0x02, 0x43, 0x41,
]);

/** The stack around bench/lib/nullApp: its host starts fast and its handler does nothing. */
function startNullAppStack(): Promise<Stack> {
  const hostJson: unknown = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8'));
  return startStack({ appRoot: join(appRoot, 'bench/lib/nullApp'), hostJson });
}

describe('host process: exits the parent did not cause are reported', { timeout: 120_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startNullAppStack();
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

describe('stack: the protocol-error guard of the e2e tests', { timeout: 120_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startNullAppStack();
  });
  after(async () => {
    await assert.rejects(stack.stop(), /printed 1 AMQP protocol error/);
  });

  it('fails once the emulator had to close a connection for a protocol error', async (t) => {
    stack.assertNoProtocolErrors();
    // The emulator prints it; keep this test's deliberate one out of the test output.
    t.mock.method(console, 'error', () => undefined);
    const connection = rhea
      .create_container()
      .connect({ host: '127.0.0.1', port: stack.emulator.port, reconnect: false });
    await once(connection, 'connection_open');
    const dropped = once(connection, 'disconnected');
    // A detach on a channel no session was ever begun on.
    (connection as unknown as { socket: Socket }).socket.write(detachOnChannel40);
    await dropped;
    assert.throws(() => {
      stack.assertNoProtocolErrors();
    }, /printed 1 AMQP protocol error\(s\):\n.*ProtocolError: detach received on invalid channel 40/);
  });
});

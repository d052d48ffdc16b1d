import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { fastRetry, testConfig } from './helpers';

const cli = join(__dirname, '..', 'src', 'cli.ts');

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, lines, stderr: () => stderr };
}

describe('emulator CLI', () => {
  it('prints the connection string and a readiness line, serves the SDK, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-cli-'));
    const config = join(dir, 'Config.json');
    writeFileSync(config, JSON.stringify(testConfig));
    const { child, lines } = run(['--port', '0', '--config', config, '--stats', '0.1']);
    const first: unknown = (await lines.next()).value;
    const second: unknown = (await lines.next()).value;
    assert.equal(typeof first, 'string');
    assert.match(
      String(first),
      /^Endpoint=sb:\/\/localhost:\d+;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;$/,
    );
    assert.match(String(second), /ready on 127\.0\.0\.1:\d+ .*3 queue\(s\), 1 topic\(s\)/);

    const client = new ServiceBusClient(String(first), fastRetry);
    await client.createSender('orders').sendMessages({ body: 'via-cli', sessionId: 'cli' });
    let statsLine = '';
    while (!statsLine.includes('orders: active=1')) {
      const next = await lines.next();
      if (next.done === true) assert.fail('stdout ended before a stats line showed the message');
      statsLine = next.value;
    }
    const receiver = await client.acceptSession('orders', 'cli');
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1000 });
    assert.equal(m?.body, 'via-cli');
    await receiver.completeMessage(m);
    await client.close();

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const exit: unknown[] = await exited;
    const [code] = exit;
    assert.equal(code, 0);
  });

  it('exits 1 with the reason when the config is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-cli-'));
    const config = join(dir, 'Config.json');
    writeFileSync(config, JSON.stringify({ UserConfig: { Namespaces: [] } }));
    const { child, stderr } = run(['--port', '0', '--config', config]);
    const exit: unknown[] = await once(child, 'exit');
    const [code] = exit;
    assert.equal(code, 1);
    assert.match(stderr(), /Invalid emulator config/);
  });
});

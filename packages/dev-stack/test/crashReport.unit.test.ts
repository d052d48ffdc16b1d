import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const crashReport = join(__dirname, '..', 'src', 'crashReport.ts');

function crash(body: string): { status: number | null; stderr: string } {
  const script = `require(${JSON.stringify(crashReport)});\n${body}`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stderr: result.stderr };
}

describe('crash report (npm start, host child)', () => {
  it('an unhandled rejection with a non-Error reason is written out with its class chain and fields, exit 1', () => {
    const { status, stderr } = crash(
      'class c { constructor() { this.condition = "amqp:link:detach-forced"; } }\nPromise.reject(new c());',
    );
    assert.equal(status, 1);
    assert.match(stderr, /unhandled rejection/);
    assert.match(stderr, /classes: c < Object/);
    assert.match(stderr, /amqp:link:detach-forced/);
  });

  it("a bare AMQP error (rhea's error composite, what the SDK leaks from a link close) is reported and survived", () => {
    const { status, stderr } = crash(
      [
        "const { types } = require('rhea');",
        "const error = types.unwrap(types.wrap_error({ condition: 'com.microsoft:session-lock-lost', description: 'lock gone' }));",
        'Promise.reject(error);',
        "setTimeout(() => { process.stderr.write('still running\\n'); process.exit(0); }, 50);",
      ].join('\n'),
    );
    assert.equal(status, 0, stderr);
    assert.match(stderr, /an AMQP error reached no handler \(com\.microsoft:session-lock-lost: lock gone\)/);
    assert.match(stderr, /still running/);
  });

  it('an uncaught exception keeps its stack, exit 1', () => {
    const { status, stderr } = crash('setTimeout(() => { throw new RangeError("out of range here"); }, 1);');
    assert.equal(status, 1);
    assert.match(stderr, /uncaught exception/);
    assert.match(stderr, /classes: RangeError < Error < Object/);
    assert.match(stderr, /RangeError: out of range here\n\s+at /);
  });
});

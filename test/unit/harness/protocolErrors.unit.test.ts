import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertNoProtocolErrors, ProtocolErrorScanner } from '../../harness/protocolErrors';

describe('protocol error guard (e2e harness)', () => {
  it("finds rhea's and the emulator's protocol error lines in chunked output, a line split across chunks included", () => {
    const scanner = new ProtocolErrorScanner();
    scanner.push('host ready\n[connection-3] error on re');
    scanner.push('ad: ProtocolError: detach received on invalid channel 13  (buffer:0x00)\nprocessOrderEvent ok\n');
    scanner.push('emulator: AMQP ProtocolError: disposition received on invalid channel 2; the connection was closed');
    assert.deepEqual(scanner.lines(), [
      '[connection-3] error on read: ProtocolError: detach received on invalid channel 13  (buffer:0x00)',
      'emulator: AMQP ProtocolError: disposition received on invalid channel 2; the connection was closed',
    ]);
  });

  it('ignores ordinary lines, including a lost connection', () => {
    const scanner = new ProtocolErrorScanner();
    scanner.push('complete failed: the connection to the emulator was lost\nsession "b-1" idle-closed\n');
    assert.deepEqual(scanner.lines(), []);
    assert.doesNotThrow(() => {
      assertNoProtocolErrors(scanner.lines());
    });
  });

  it('fails naming each line', () => {
    assert.throws(
      () => {
        assertNoProtocolErrors(['[connection-1] error on write: ProtocolError: x']);
      },
      { message: 'The stack printed 1 AMQP protocol error(s):\n[connection-1] error on write: ProtocolError: x' },
    );
  });
});

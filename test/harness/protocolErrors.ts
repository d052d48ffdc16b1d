/**
 * What the stand-ins print when an AMQP peer broke the protocol and a connection died for it: rhea's
 * own "error on read/write: ProtocolError: …" lines and the emulator's "AMQP ProtocolError: …". The
 * e2e tests fail on any of them (issue 15): one such error drops every session on the connection.
 */
export const protocolErrorPattern = /ProtocolError|error on (?:read|write)/;

/** Collects the matching lines of a stream that arrives in chunks (a line may span two chunks). */
export class ProtocolErrorScanner {
  readonly #found: string[] = [];
  #partial = '';

  push(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) if (protocolErrorPattern.test(line)) this.#found.push(line);
  }

  /** The matching lines so far, the unfinished last line included. */
  lines(): string[] {
    return protocolErrorPattern.test(this.#partial) ? [...this.#found, this.#partial] : [...this.#found];
  }
}

/** Throws, naming each line, if the stack printed any protocol error. */
export function assertNoProtocolErrors(lines: readonly string[]): void {
  if (lines.length === 0) return;
  const shown = lines.map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line));
  throw new Error(`The stack printed ${String(lines.length)} AMQP protocol error(s):\n${shown.join('\n')}`);
}

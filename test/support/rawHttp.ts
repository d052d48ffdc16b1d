import { connect } from 'node:net';

export interface RawOptions {
  /** Sent again and again after `chunks` (a body far past a limit) until `upTo` bytes or the server closes. */
  keepSending?: Buffer;
  /** Default 200 MB. */
  upTo?: number;
  /** Sent once `upTo` is reached (e.g. the last chunk `0\r\n\r\n`). */
  finish?: string;
  /** Default 10 s. */
  timeoutMs?: number;
}

export interface RawResult {
  /** Everything the server wrote until it closed. */
  text: string;
  /** The bytes the client wrote until the server closed. */
  sentBytes: number;
  /**
   * The bytes the client had written when the first byte of the answer arrived (all of them if none came):
   * at most what the server had taken in by then plus what the sockets between them buffer.
   */
  sentBeforeAnswer: number;
}

/**
 * Speaks HTTP/1.1 as raw bytes, so a test can send what fetch will not (%00, `..`, a lying Content-Length,
 * a body the server should stop reading). Resolves with everything the server wrote until it closed.
 */
export function raw(port: number, chunks: readonly (string | Buffer)[], options: RawOptions = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let sentBytes = 0;
    let sentBeforeAnswer: number | undefined;
    let closed = false;
    socket.on('data', (data) => {
      sentBeforeAnswer ??= sentBytes;
      text += data.toString('latin1');
    });
    socket.on('error', () => undefined); // a reset after the answer is expected when the server stops reading
    socket.on('close', () => {
      closed = true;
      resolve({ text, sentBytes, sentBeforeAnswer: sentBeforeAnswer ?? sentBytes });
    });
    socket.on('connect', () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        sentBytes += Buffer.byteLength(chunk);
      }
      const more = options.keepSending;
      if (more === undefined) return;
      const upTo = options.upTo ?? 200 * 1024 * 1024;
      const pump = (): void => {
        while (!closed && sentBytes < upTo) {
          sentBytes += more.length;
          if (!socket.write(more)) {
            socket.once('drain', pump);
            return;
          }
        }
        if (!closed && options.finish !== undefined) socket.write(options.finish);
      };
      pump();
    });
    const timeoutMs = options.timeoutMs ?? 10_000;
    setTimeout(() => {
      if (!closed) reject(new Error(`connection still open after ${timeoutMs} ms; received so far: ${text}`));
    }, timeoutMs).unref();
  });
}

export function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
}

/** The body of the (first) response in `text`, its chunked framing removed if it has one. */
export function bodyOfResponse(text: string): string {
  const at = text.indexOf('\r\n\r\n');
  const head = text.slice(0, at);
  let rest = text.slice(at + 4);
  if (!/^transfer-encoding: chunked$/im.test(head)) return rest;
  let body = '';
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!(size > 0)) return body;
    body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

// Bytes no HTTP client will send (oversized or broken heads, dribbled headers, CONNECT), written
// straight to a TCP socket, and what came back: the parsed answer and whether the server closed.
import { connect } from 'node:net';

export interface RawAnswer {
  /** 0 when nothing (or no HTTP status line) came back. */
  readonly status: number;
  /** Lowercased names; the first value of each. */
  readonly headers: Readonly<Record<string, string>>;
  /** The first response's body (de-chunked); what came after it is in `rest`. */
  readonly body: string;
  /** Bytes after the first response: the answers to pipelined requests. */
  readonly rest: string;
  /** The server ended the connection (rather than our deadline ending the read). */
  readonly closedByServer: boolean;
}

export interface RawOptions {
  /** Pause between the parts, to dribble a request the way a slow client does. */
  readonly gapMs?: number;
  /** Give up reading after this long (the answer then has closedByServer false). */
  readonly deadlineMs?: number;
}

function parse(text: string, closedByServer: boolean): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (colon > 0 && !(name in headers)) headers[name] = line.slice(colon + 1).trim();
  }
  const after = end < 0 ? '' : text.slice(end + 4);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const { body, rest } = splitBody(status, headers, after);
  return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8'), rest, closedByServer };
}

/** The first response's body and what follows it, by Content-Length or chunked framing. */
function splitBody(status: number, headers: Record<string, string>, after: string): { body: string; rest: string } {
  if (status < 200) return { body: '', rest: after };
  if (headers['transfer-encoding'] === 'chunked') {
    let body = '';
    let at = 0;
    for (;;) {
      const lineEnd = after.indexOf('\r\n', at);
      if (lineEnd < 0) return { body, rest: '' };
      const size = parseInt(after.slice(at, lineEnd), 16);
      if (!(size > 0)) return { body, rest: after.slice(lineEnd + 4) };
      body += after.slice(lineEnd + 2, lineEnd + 2 + size);
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = Number(headers['content-length'] ?? after.length);
  return { body: after.slice(0, length), rest: after.slice(length) };
}

export function rawExchange(port: number, parts: readonly (string | Buffer)[], options: RawOptions = {}): Promise<RawAnswer> {
  const { gapMs = 0, deadlineMs = 5000 } = options;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const deadline = setTimeout(() => socket.destroy(), deadlineMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      closedByServer = true;
    });
    // A reset after the server answered and closed is still a close by the server.
    socket.on('error', () => {
      closedByServer = true;
    });
    socket.on('close', () => {
      clearTimeout(deadline);
      // latin1: one character per byte, so chunk sizes count right; bodies are decoded as UTF-8 after.
      resolve(parse(Buffer.concat(chunks).toString('latin1'), closedByServer));
    });
    void (async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        if (gapMs > 0) await new Promise((done) => setTimeout(done, gapMs));
      }
    })();
  });
}

/** The body of a raw answer as JSON, or undefined when it is not JSON. */
export function jsonOf(answer: RawAnswer): Record<string, unknown> | undefined {
  try {
    return JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

// Raw HTTP over a TCP socket, for what HTTP clients refuse to send (smuggling, folding, hop-by-hop
// headers) and to see whether the gateway closed the connection.
import { connect } from 'node:net';

export interface RawExchange {
  /** Everything the server sent until it closed the connection or the deadline passed. */
  readonly text: string;
  readonly status: number;
  /** True when the server closed the connection (rather than the deadline ending the read). */
  readonly closedByServer: boolean;
}

export function rawHttp(port: number, request: string | Buffer, deadlineMs = 2000): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), deadlineMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('end', () => {
      closedByServer = true;
    });
    socket.on('error', () => {
      closedByServer = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ text, status, closedByServer });
    });
    socket.write(request);
  });
}

/** Header value from a raw response head (first occurrence, case-insensitive name). */
export function rawHeader(text: string, name: string): string | undefined {
  const head = text.split('\r\n\r\n', 1)[0] ?? '';
  for (const line of head.split('\r\n').slice(1)) {
    const at = line.indexOf(':');
    if (at > 0 && line.slice(0, at).trim().toLowerCase() === name.toLowerCase()) return line.slice(at + 1).trim();
  }
  return undefined;
}

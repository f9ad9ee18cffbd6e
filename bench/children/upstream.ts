// The local upstream: a plain node:http server with keep-alive answering a small JSON body, so the
// proxies are measured against an upstream that costs as little as possible.
import { createServer } from 'node:http';
import { listenAndAnnounce } from './lifecycle.js';

const BODY = Buffer.from(JSON.stringify({ ok: true, service: 'bench-upstream' }));
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

const server = createServer((req, res) => {
  // Drain any request body so the connection stays reusable.
  req.resume();
  res.writeHead(200, HEADERS);
  res.end(BODY);
});

listenAndAnnounce(server);

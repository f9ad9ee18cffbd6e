// The bare http-proxy-3 proxy: the classic node-http-proxy design (node:http client with a
// keep-alive agent), for comparison with the undici-based proxies.
import { Agent, createServer } from 'node:http';
import { createProxyServer } from 'http-proxy-3';
import { listenAndAnnounce, upstreamUrlFromEnv } from './lifecycle.js';

const agent = new Agent({ keepAlive: true, maxSockets: 128 });
const proxy = createProxyServer({ target: upstreamUrlFromEnv().origin, agent, xfwd: true });

const server = createServer((req, res) => {
  proxy.web(req, res, {}, () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end();
  });
});

listenAndAnnounce(server, async () => {
  proxy.close();
  agent.destroy();
});

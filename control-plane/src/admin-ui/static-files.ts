// The admin UI's and the API reference's static files, served by the control plane itself (no CDN):
// our own from ./static, Swagger UI's from the swagger-ui-dist package. Only files named here are
// served. Each is read once, with its gzip form and a content hash: pages link `?v=<hash>`, so a
// file can be cached for a long time and a new release still reaches browsers at once; the ETag
// answers a revalidation with 304.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Reply } from '../http/router.js';

interface StaticFile {
  readonly body: Buffer;
  readonly gzipped: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly version: string;
}

const CONTENT_TYPES: Record<string, string> = {
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
};

const OWN_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const SWAGGER_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** URL path → file on disk. */
export const STATIC_FILES: Readonly<Record<string, string>> = {
  '/admin/static/admin.css': join(OWN_DIR, 'admin.css'),
  '/admin/static/admin.js': join(OWN_DIR, 'admin.js'),
  '/admin/static/icon.svg': join(OWN_DIR, 'icon.svg'),
  '/docs/static/docs.css': join(OWN_DIR, 'docs.css'),
  '/docs/static/docs.js': join(OWN_DIR, 'docs.js'),
  '/docs/static/swagger-ui.css': join(SWAGGER_DIR, 'swagger-ui.css'),
  '/docs/static/swagger-ui-bundle.js': join(SWAGGER_DIR, 'swagger-ui-bundle.js'),
};

const loaded = new Map<string, StaticFile>();

function load(urlPath: string): StaticFile | undefined {
  const known = loaded.get(urlPath);
  if (known) return known;
  const path = STATIC_FILES[urlPath];
  if (path === undefined) return undefined;
  const body = readFileSync(path);
  const hash = createHash('sha256').update(body).digest('base64url');
  const extension = path.slice(path.lastIndexOf('.') + 1);
  const file: StaticFile = {
    body,
    gzipped: gzipSync(body),
    contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream',
    etag: `"${hash.slice(0, 22)}"`,
    version: hash.slice(0, 10),
  };
  loaded.set(urlPath, file);
  return file;
}

/** The URL a page should link: the path plus the content's version. */
export function assetUrl(urlPath: string): string {
  const file = load(urlPath);
  if (!file) throw new Error(`no static file ${urlPath}`);
  return `${urlPath}?v=${file.version}`;
}

/** The file's reply, 304 when the browser's copy is current; undefined for a path not served. */
export function staticReply(urlPath: string, request: IncomingMessage, query: URLSearchParams): Reply | undefined {
  const file = load(urlPath);
  if (!file) return undefined;
  const headers: Record<string, string> = {
    etag: file.etag,
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
    // A versioned URL names these bytes for ever; a bare one may change with the next release.
    'cache-control': query.get('v') === file.version ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
  };
  if (request.headers['if-none-match'] === file.etag) return { status: 304, headers };
  const gzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
  return {
    status: 200,
    raw: gzip ? file.gzipped : file.body,
    contentType: file.contentType,
    headers: gzip ? { ...headers, 'content-encoding': 'gzip' } : headers,
  };
}

// Replies of the admin UI and the API reference: HTML with the security headers, redirects, and
// the friendly error pages.
import type { VNode } from 'preact';
import type { Reply } from '../http/router.js';
import { ErrorView } from './views/error-view.js';
import { renderDocument, type Viewer } from './views/layout.js';

/**
 * No inline script or style anywhere (scripts and styles are our static files), no framing, no
 * plugins, forms post only here. `img-src data:` is for the icons inside stylesheets.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function securityHeaders(csp: string = CONTENT_SECURITY_POLICY): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    // Pages show keys, secrets once, and who did what: never kept by a browser or a proxy cache.
    'cache-control': 'no-store',
  };
}

export function html(status: number, page: VNode, headers: Readonly<Record<string, string>> = {}): Reply {
  return {
    status,
    raw: renderDocument(page),
    contentType: 'text/html; charset=utf-8',
    headers: { ...securityHeaders(), ...headers },
  };
}

/** 303: the browser follows with a GET, so reloading the next page never repeats the POST. */
export function redirect(location: string, headers: Readonly<Record<string, string>> = {}): Reply {
  return { status: 303, headers: { ...securityHeaders(), location, ...headers } };
}

export function errorPage(status: number, title: string, message: string, viewer: Viewer | null, headers: Readonly<Record<string, string>> = {}): Reply {
  return html(status, ErrorView({ status, title, message, viewer }), headers);
}

/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// The page frame every admin page shares: head (our stylesheet and script, both static files, so
// the CSP needs no inline code), the top bar with navigation, the signed-in user and sign-out.
import type { ComponentChildren, VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { assetUrl } from '../static-files.js';
import { CsrfField } from './components.js';

export type Section = 'keys' | 'tiers' | 'request-logs' | 'audit-log' | 'gateways';

/** Who is signed in, and the CSRF token their forms carry. */
export interface Viewer {
  readonly username: string;
  readonly csrfToken: string;
}

const SECTIONS: readonly { readonly id: Section; readonly label: string; readonly href: string }[] = [
  { id: 'keys', label: 'Keys', href: '/admin/keys' },
  { id: 'tiers', label: 'Tiers', href: '/admin/tiers' },
  { id: 'request-logs', label: 'Request logs', href: '/admin/request-logs' },
  { id: 'audit-log', label: 'Audit log', href: '/admin/audit-log' },
  { id: 'gateways', label: 'Gateways', href: '/admin/gateways' },
];

/** preact renders elements only; the doctype is ours. Every text and attribute is escaped. */
export function renderDocument(page: VNode): string {
  return `<!doctype html>${renderToString(page)}`;
}

export interface PageProps {
  readonly title: string;
  readonly viewer: Viewer | null;
  readonly section?: Section;
  readonly children: ComponentChildren;
}

export function Page({ title, viewer, section, children }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Tollgate admin`}</title>
        <link rel="icon" type="image/svg+xml" href={assetUrl('/admin/static/icon.svg')} />
        <link rel="stylesheet" href={assetUrl('/admin/static/admin.css')} />
        <script src={assetUrl('/admin/static/admin.js')} defer />
      </head>
      <body>
        <header class="topbar">
          <div class="topbar-inner">
            <a class="brand" href="/admin/keys">
              <img src={assetUrl('/admin/static/icon.svg')} alt="" width={22} height={22} />
              Tollgate
            </a>
            {viewer && (
              <nav class="main-nav" aria-label="Sections">
                {SECTIONS.map((item) => (
                  <a href={item.href} aria-current={item.id === section ? 'page' : undefined}>
                    {item.label}
                  </a>
                ))}
              </nav>
            )}
            <div class="topbar-end">
              <a href="/docs">API docs</a>
              {viewer && (
                <form method="post" action="/admin/logout" class="sign-out">
                  <CsrfField token={viewer.csrfToken} />
                  <span class="who" title="Signed in">
                    {viewer.username}
                  </span>
                  <button type="submit" class="button small quiet">
                    Sign out
                  </button>
                </form>
              )}
            </div>
          </div>
        </header>
        <main class="content">{children}</main>
      </body>
    </html>
  );
}

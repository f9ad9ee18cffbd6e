/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// /docs: the API reference, rendered in the browser by Swagger UI (served from this control plane)
// from /openapi.json. The init script is a static file too, so the CSP allows no inline script.
import { renderToString } from 'preact-render-to-string';
import { assetUrl } from '../static-files.js';

export function renderDocsPage(): string {
  const page = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>API reference · Tollgate</title>
        <link rel="icon" type="image/svg+xml" href={assetUrl('/admin/static/icon.svg')} />
        <link rel="stylesheet" href={assetUrl('/docs/static/swagger-ui.css')} />
        <link rel="stylesheet" href={assetUrl('/docs/static/docs.css')} />
        <script src={assetUrl('/docs/static/swagger-ui-bundle.js')} defer />
        <script src={assetUrl('/docs/static/docs.js')} defer />
      </head>
      <body>
        <header class="docs-bar">
          <a class="docs-brand" href="/admin">
            <img src={assetUrl('/admin/static/icon.svg')} alt="" width={22} height={22} />
            Tollgate API reference
          </a>
          <nav>
            <a href="/admin">Admin UI</a>
            <a href="/openapi.json">openapi.json</a>
          </nav>
        </header>
        <p class="docs-note">
          To try a call, press <strong>Authorize</strong> and paste the admin token (<code>ADMIN_TOKEN</code>; with{' '}
          <code>npm start</code> it is printed at start and kept in the data directory). Calls go to this control plane only.
        </p>
        <div id="swagger-ui">
          <noscript>
            <p class="docs-note">The interactive reference needs JavaScript. The document itself is at /openapi.json.</p>
          </noscript>
        </div>
      </body>
    </html>
  );
  return `<!doctype html>${renderToString(page)}`;
}

/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// One page for everything that went wrong: not found, a refused form, too many sign-ins, a failure.
import { Page, type Viewer } from './layout.js';

export function ErrorView({ status, title, message, viewer }: { readonly status: number; readonly title: string; readonly message: string; readonly viewer: Viewer | null }) {
  return (
    <Page title={title} viewer={viewer}>
      <section class="error-page">
        <p class="error-code">{status}</p>
        <h1>{title}</h1>
        <p>{message}</p>
        <p class="actions">
          <a class="button" href={viewer ? '/admin/keys' : '/admin'}>
            {viewer ? 'Back to the keys' : 'Open the admin UI'}
          </a>
        </p>
      </section>
    </Page>
  );
}

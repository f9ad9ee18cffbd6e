/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// The sign-in page: Username, Password, Sign in.
import { Alert, CsrfField, TextField } from './components.js';
import { Page } from './layout.js';

export interface SignInViewProps {
  readonly csrfToken: string;
  readonly next: string;
  readonly username?: string;
  readonly error?: string;
  readonly notice?: string;
  readonly fieldErrors?: Readonly<Record<string, string>>;
}

export function SignInView({ csrfToken, next, username, error, notice, fieldErrors = {} }: SignInViewProps) {
  return (
    <Page title="Sign in" viewer={null}>
      <section class="sign-in">
        <h1>Sign in</h1>
        <p class="muted">Tollgate admin: keys, tiers, request logs and the audit log.</p>
        {notice && <Alert kind="info" title={notice} />}
        {error && <Alert kind="error" title={error} />}
        <form method="post" action="/admin/login" class="stack" novalidate>
          <CsrfField token={csrfToken} />
          <input type="hidden" name="next" value={next} />
          <TextField name="username" label="Username" value={username} error={fieldErrors.username} autocomplete="username" required autofocus={!username} />
          <TextField name="password" label="Password" type="password" error={fieldErrors.password} autocomplete="current-password" required autofocus={Boolean(username)} />
          <button type="submit" class="button primary">
            Sign in
          </button>
        </form>
      </section>
    </Page>
  );
}

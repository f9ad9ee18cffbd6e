/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// A confirmation step before an action that cannot be undone (revoke, rotate, delete).
import { CsrfField } from './components.js';
import { Page, type Section, type Viewer } from './layout.js';

export interface ConfirmViewProps {
  readonly viewer: Viewer;
  readonly section: Section;
  readonly title: string;
  readonly explanation: string;
  readonly action: string;
  readonly confirmLabel: string;
  readonly cancelHref: string;
  readonly danger: boolean;
}

export function ConfirmView(props: ConfirmViewProps) {
  return (
    <Page title={props.title} viewer={props.viewer} section={props.section}>
      <section class="panel confirm">
        <h1>{props.title}</h1>
        <p>{props.explanation}</p>
        <form method="post" action={props.action} class="actions">
          <CsrfField token={props.viewer.csrfToken} />
          <button type="submit" class={`button ${props.danger ? 'danger' : 'primary'}`}>
            {props.confirmLabel}
          </button>
          <a class="button quiet" href={props.cancelHref}>
            Cancel
          </a>
        </form>
      </section>
    </Page>
  );
}

/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// Small building blocks of the admin pages: form fields with their label and error, alerts, empty
// states, filters, pagination, times and limits.
import type { ComponentChildren } from 'preact';
import type { Limit } from '../../../../contracts/limits.js';

export const CSRF_FIELD = 'csrf';

export function CsrfField({ token }: { readonly token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={token} />;
}

/** Field name → message, shown next to the field (and summarised at the top of the form). */
export type FieldErrors = Readonly<Record<string, string>>;

interface FieldProps {
  readonly id: string;
  readonly label: string;
  readonly error?: string | undefined;
  readonly hint?: string | undefined;
  readonly children: ComponentChildren;
  readonly wide?: boolean;
}

/** A label above its control, a hint and the error below it, wired up for screen readers. */
export function Field({ id, label, error, hint, children, wide }: FieldProps) {
  return (
    <div class={`field${error ? ' has-error' : ''}${wide ? ' wide' : ''}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function describedBy(id: string, error?: string, hint?: string): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

interface TextFieldProps {
  readonly name: string;
  readonly label: string;
  readonly value?: string | undefined;
  readonly error?: string | undefined;
  readonly hint?: string | undefined;
  readonly type?: 'text' | 'password' | 'search' | 'datetime-local' | 'number';
  readonly required?: boolean;
  readonly autocomplete?: string;
  readonly autofocus?: boolean;
  readonly placeholder?: string;
  readonly idPrefix?: string;
  readonly wide?: boolean;
  /** The id of a <datalist> of suggestions. */
  readonly list?: string;
  readonly inputMode?: 'text' | 'numeric';
}

export function TextField(props: TextFieldProps) {
  const id = `${props.idPrefix ?? 'f'}-${props.name}`;
  return (
    <Field id={id} label={props.label} error={props.error} hint={props.hint} wide={props.wide}>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value ?? ''}
        required={props.required}
        autocomplete={props.autocomplete}
        autofocus={props.autofocus}
        placeholder={props.placeholder}
        list={props.list}
        inputMode={props.inputMode}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={describedBy(id, props.error, props.hint)}
      />
    </Field>
  );
}

export interface SelectOption {
  readonly value: string;
  readonly label: string;
  /** data-* attributes for the page's script: `{ algorithm: 'gcra' }` → data-algorithm="gcra". */
  readonly data?: Readonly<Record<string, string>>;
}

interface SelectFieldProps {
  readonly name: string;
  readonly label: string;
  readonly options: readonly SelectOption[];
  readonly value?: string | undefined;
  readonly error?: string | undefined;
  readonly hint?: string | undefined;
  readonly required?: boolean;
  readonly idPrefix?: string;
}

export function SelectField(props: SelectFieldProps) {
  const id = `${props.idPrefix ?? 'f'}-${props.name}`;
  return (
    <Field id={id} label={props.label} error={props.error} hint={props.hint}>
      <select
        id={id}
        name={props.name}
        required={props.required}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={describedBy(id, props.error, props.hint)}
      >
        {props.options.map((option) => (
          <option value={option.value} selected={option.value === props.value} {...dataAttributes(option.data)}>
            {option.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

function dataAttributes(data: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([name, value]) => [`data-${name}`, value]));
}

export function Alert({ kind, title, children }: { readonly kind: 'error' | 'success' | 'info' | 'warning'; readonly title?: string; readonly children?: ComponentChildren }) {
  return (
    <div class={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {title && <strong>{title}</strong>}
      {children && <div>{children}</div>}
    </div>
  );
}

/** The problems of a refused form, at its top; each is also shown next to its field. */
export function FormErrors({ errors, general }: { readonly errors: FieldErrors; readonly general?: string | undefined }) {
  const count = Object.keys(errors).length;
  if (count === 0 && !general) return null;
  return (
    <Alert kind="error" title={general ?? (count === 1 ? 'Please correct the field below.' : `Please correct the ${count} fields below.`)} />
  );
}

export function EmptyState({ title, children }: { readonly title: string; readonly children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children && <p>{children}</p>}
    </div>
  );
}

export interface FilterOption {
  readonly label: string;
  readonly href: string;
  readonly current: boolean;
}

/** A row of links, like a list filter in Django's admin: one click, no form, bookmarkable. */
export function FilterGroup({ title, options }: { readonly title: string; readonly options: readonly FilterOption[] }) {
  return (
    <div class="filter-group">
      <span class="filter-title">{title}</span>
      <ul>
        {options.map((option) => (
          <li>
            {option.current ? (
              <a href={option.href} class="current" aria-current="true">
                {option.label}
              </a>
            ) : (
              <a href={option.href}>{option.label}</a>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Pagination({ firstHref, nextHref }: { readonly firstHref: string | null; readonly nextHref: string | null }) {
  if (firstHref === null && nextHref === null) return null;
  return (
    <nav class="pagination" aria-label="Pages">
      {firstHref !== null ? <a href={firstHref}>« First page</a> : <span />}
      {nextHref !== null && (
        <a href={nextHref} rel="next">
          Next page »
        </a>
      )}
    </nav>
  );
}

/** `2026-12-07 08:03 UTC`, with the exact instant in the element. */
export function Time({ value, empty = '—' }: { readonly value: string | null; readonly empty?: string }) {
  if (value === null) return <span class="muted">{empty}</span>;
  const iso = new Date(value).toISOString();
  return (
    <time datetime={iso} title={iso}>
      {`${iso.slice(0, 10)} ${iso.slice(11, 16)}`}
      <span class="tz"> UTC</span>
    </time>
  );
}

/** How long ago, in the largest unit that fits: `3 s ago`, `4 min ago`, `2 h ago`, `3 d ago`. */
export function agoText(elapsedMs: number): string {
  // A clock a little ahead of ours (another machine's) must not read as the future.
  if (elapsedMs < 1000) return 'just now';
  const seconds = Math.floor(elapsedMs / 1000);
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** `3 s ago`, with the exact instant in the element and its tooltip. */
export function Ago({ value, now }: { readonly value: string; readonly now: Date }) {
  const iso = new Date(value).toISOString();
  return (
    <time datetime={iso} title={iso}>
      {agoText(now.getTime() - Date.parse(iso))}
    </time>
  );
}

/** `60 / 1m`, and `, burst 10` where a GCRA limit has one. */
export function limitText(limit: Limit): string {
  const text = `${limit.limit.toLocaleString('en-US')} / ${limit.window}`;
  return limit.burst === undefined ? text : `${text}, burst ${limit.burst.toLocaleString('en-US')}`;
}

export function limitsText(limits: readonly Limit[]): string {
  return limits.map(limitText).join(' · ');
}

/** The same as limitsText, each limit kept on one line. */
export function LimitsList({ limits }: { readonly limits: readonly Limit[] }) {
  return (
    <>
      {limits.map((limit, index) => (
        <>
          {index > 0 && ' · '}
          <span class="limit-item">{limitText(limit)}</span>
        </>
      ))}
    </>
  );
}

export function Badge({ kind, children, title }: { readonly kind: 'ok' | 'off' | 'bad' | 'warn' | 'plain'; readonly children: ComponentChildren; readonly title?: string }) {
  return (
    <span class={`badge badge-${kind}`} title={title}>
      {children}
    </span>
  );
}

/** A table that scrolls sideways on a narrow screen instead of squeezing its columns. */
export function TableWrap({ children, label }: { readonly children: ComponentChildren; readonly label: string }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

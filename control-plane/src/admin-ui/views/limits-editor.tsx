/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// Rows of window + requests + burst inputs (route limits: a route name first). Without JavaScript
// a form cannot add rows, so it shows the current limits plus a few empty rows; empty rows are
// ignored when the form is read (limit-rows.ts).
import type { FieldErrors } from './components.js';

export interface LimitRow {
  readonly window: string;
  readonly limit: string;
  readonly burst: string;
}

export interface RouteLimitRow extends LimitRow {
  readonly route: string;
}

export const EXTRA_LIMIT_ROWS = 2;

/**
 * How the editor names things. `limit`: inputs `window_N`…, errors at `limits.N.field`, labels
 * "Window of limit 1". `route`: inputs `route_N`, `route_window_N`…, errors at
 * `route_limits.N.field`, labels "Window of route limit 1".
 */
type EditorKind = 'limit' | 'route';

const NAMING = {
  limit: { prefix: '', group: 'limits', noun: 'limit' },
  route: { prefix: 'route_', group: 'route_limits', noun: 'route limit' },
} as const;

export interface LimitsEditorProps {
  readonly rows: readonly (LimitRow & { readonly route?: string })[];
  readonly errors: FieldErrors;
  readonly legend: string;
  readonly hint: string;
  readonly kind?: EditorKind;
  /**
   * The id of the select that decides the algorithm (its option's `data-algorithm`, else its
   * value): the page's script hides empty burst inputs unless it is gcra.
   */
  readonly algorithmSelect?: string;
}

export function LimitsEditor({ rows, errors, legend, hint, kind = 'limit', algorithmSelect }: LimitsEditorProps) {
  const { prefix, group, noun } = NAMING[kind];
  const groupError = errors[group];
  const input = (index: number, field: 'route' | 'window' | 'limit' | 'burst', label: string, value: string, inputMode: 'text' | 'numeric') => (
    <LimitInput
      id={field === 'route' ? `route_${index}` : `${prefix}${field}_${index}`}
      label={label}
      name={`${noun} ${index + 1}`}
      value={value}
      error={errors[`${group}.${index}.${field}`]}
      inputMode={inputMode}
      burst={field === 'burst'}
    />
  );
  return (
    <fieldset class={`limits-editor${groupError ? ' has-error' : ''}`} data-burst-for={algorithmSelect}>
      <legend>{legend}</legend>
      <p class="hint">{hint}</p>
      {groupError && <p class="field-error">{groupError}</p>}
      <div class="limit-rows">
        {rows.map((row, index) => (
          <div class={`limit-row${kind === 'route' ? ' with-route' : ''}`}>
            {kind === 'route' && input(index, 'route', 'Route', row.route ?? '', 'text')}
            {input(index, 'window', 'Window', row.window, 'text')}
            {input(index, 'limit', 'Requests', row.limit, 'numeric')}
            {input(index, 'burst', 'Burst', row.burst, 'numeric')}
          </div>
        ))}
      </div>
    </fieldset>
  );
}

interface LimitInputProps {
  readonly id: string;
  readonly label: string;
  /** Which limit it belongs to, for its accessible name: "Window of limit 2". */
  readonly name: string;
  readonly value: string;
  readonly error: string | undefined;
  readonly inputMode: 'text' | 'numeric';
  readonly burst: boolean;
}

function LimitInput({ id, label, name, value, error, inputMode, burst }: LimitInputProps) {
  return (
    <div class={`field${error ? ' has-error' : ''}${burst ? ' burst-field' : ''}`}>
      <label for={id}>
        {label}
        <span class="visually-hidden">{` of ${name}`}</span>
      </label>
      <input id={id} name={id} value={value} inputMode={inputMode} aria-invalid={error ? 'true' : undefined} aria-describedby={error ? `${id}-error` : undefined} />
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

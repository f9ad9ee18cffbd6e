/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// Rows of window + limit inputs. Without JavaScript a form cannot add rows, so it shows the
// current limits plus a few empty rows; empty rows are ignored when the form is read.
import type { FieldErrors } from './components.js';

export interface LimitRow {
  readonly window: string;
  readonly limit: string;
}

export const EXTRA_LIMIT_ROWS = 2;

export function LimitsEditor({ rows, errors, legend, hint }: { readonly rows: readonly LimitRow[]; readonly errors: FieldErrors; readonly legend: string; readonly hint: string }) {
  const groupError = errors.limits;
  return (
    <fieldset class={`limits-editor${groupError ? ' has-error' : ''}`}>
      <legend>{legend}</legend>
      <p class="hint">{hint}</p>
      {groupError && <p class="field-error">{groupError}</p>}
      <div class="limit-rows">
        {rows.map((row, index) => (
          <div class="limit-row">
            <LimitInput id={`window_${index}`} label="Window" row={index} value={row.window} error={errors[`limits.${index}.window`]} inputMode="text" />
            <LimitInput id={`limit_${index}`} label="Requests" row={index} value={row.limit} error={errors[`limits.${index}.limit`]} inputMode="numeric" />
          </div>
        ))}
      </div>
    </fieldset>
  );
}

interface LimitInputProps {
  readonly id: string;
  readonly label: string;
  readonly row: number;
  readonly value: string;
  readonly error: string | undefined;
  readonly inputMode: 'text' | 'numeric';
}

/** One input of a row; its accessible name says which limit it belongs to ("Window of limit 2"). */
function LimitInput({ id, label, row, value, error, inputMode }: LimitInputProps) {
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={id}>
        {label}
        <span class="visually-hidden">{` of limit ${row + 1}`}</span>
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

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
        {rows.map((row, index) => {
          const windowError = errors[`limits.${index}.window`];
          const limitError = errors[`limits.${index}.limit`];
          return (
            <div class="limit-row">
              <div class={`field${windowError ? ' has-error' : ''}`}>
                <label for={`window_${index}`}>
                  Window<span class="visually-hidden">{` of limit ${index + 1}`}</span>
                </label>
                <input
                  id={`window_${index}`}
                  name={`window_${index}`}
                  value={row.window}
                  inputMode="text"
                  aria-invalid={windowError ? 'true' : undefined}
                  aria-describedby={windowError ? `window_${index}-error` : undefined}
                />
                {windowError && (
                  <p class="field-error" id={`window_${index}-error`}>
                    {windowError}
                  </p>
                )}
              </div>
              <div class={`field${limitError ? ' has-error' : ''}`}>
                <label for={`limit_${index}`}>
                  Requests<span class="visually-hidden">{` of limit ${index + 1}`}</span>
                </label>
                <input
                  id={`limit_${index}`}
                  name={`limit_${index}`}
                  value={row.limit}
                  inputMode="numeric"
                  aria-invalid={limitError ? 'true' : undefined}
                  aria-describedby={limitError ? `limit_${index}-error` : undefined}
                />
                {limitError && (
                  <p class="field-error" id={`limit_${index}-error`}>
                    {limitError}
                  </p>
                )}
              </div>
            </div>
          );
        })}
      </div>
    </fieldset>
  );
}

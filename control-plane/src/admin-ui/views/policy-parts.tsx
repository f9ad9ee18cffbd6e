/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// Pieces that show a tier's policy the same way on every page: its mode, its route limits, where
// its calendar windows reset.
import { isCalendarWindow, MODES, type Limit, type Mode } from '../../../../contracts/limits.js';
import { Badge, LimitsList, type SelectOption } from './components.js';

const MODE_LABELS: Record<Mode, string> = {
  enforce: 'enforce: refuse over a limit',
  shadow: 'shadow: forward, and count what would be refused',
};

/** The choices of a mode select, worded the same on the tier and the key form. */
export const MODE_OPTIONS: readonly SelectOption[] = MODES.map((mode) => ({ value: mode, label: MODE_LABELS[mode] }));

/** Shadow stands out: such a tier (or key) is not refused anything, only counted. */
export function ModeBadge({ mode }: { readonly mode: Mode }) {
  return mode === 'shadow' ? (
    <Badge kind="warn" title="Over a limit, requests are forwarded and counted, not refused">
      shadow
    </Badge>
  ) : (
    <Badge kind="plain">enforce</Badge>
  );
}

export function RouteLimitsList({ routeLimits }: { readonly routeLimits: Readonly<Record<string, readonly Limit[]>> }) {
  return (
    <ul class="route-limits">
      {Object.entries(routeLimits).map(([route, limits]) => (
        <li>
          <code>{route}</code>: <LimitsList limits={limits} />
        </li>
      ))}
    </ul>
  );
}

export function hasCalendarWindow(limits: readonly Limit[], routeLimits: Readonly<Record<string, readonly Limit[]>> | null): boolean {
  return [...limits, ...Object.values(routeLimits ?? {}).flat()].some((limit) => isCalendarWindow(limit.window));
}

/** The time zone that day and month windows reset in, for limits that have such windows. */
export function CalendarNote({ timezone }: { readonly timezone: string }) {
  return (
    <span class="calendar-note" title="day and month windows reset at local midnight (month: on the 1st)">
      calendar · {timezone}
    </span>
  );
}

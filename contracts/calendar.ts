// Calendar periods for `day` and `month` windows: a count per period that resets at local midnight
// in the tier's time zone (on the first of the month for `month`), daylight-saving changes included.
// The gateway (and the control plane's usage endpoint) work out the period's start and the next
// one's; the limiter script counts with Redis's clock and takes the next period if Redis is already
// past its start.
import type { CalendarWindow } from './limits.js';

export interface Period {
  /** Epoch ms of the period's first instant (local midnight). */
  readonly start: number;
  /** Epoch ms of the next period's first instant. */
  readonly next: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

interface LocalTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

function localTime(instant: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year as number,
    month: parts.month as number,
    day: parts.day as number,
    hour: parts.hour as number,
    minute: parts.minute as number,
    second: parts.second as number,
  };
}

/** Ms the zone's wall clock is ahead of UTC at `instant`. */
function offsetAt(instant: number, timeZone: string): number {
  const local = localTime(instant, timeZone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant the zone's wall clock first shows midnight of year-month-day. Where a change of
 * offset skips midnight (a few zones move their clocks at 00:00), the first instant of that day.
 */
function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  let instant = wall - offsetAt(wall, timeZone);
  // The offset at the guess may differ from the offset at midnight (a change between them).
  const corrected = wall - offsetAt(instant, timeZone);
  if (corrected !== instant) instant = corrected;
  // Skipped midnight: the guess landed on the previous day; the day starts an offset change later.
  const local = localTime(instant, timeZone);
  if (local.day !== new Date(wall).getUTCDate()) instant += offsetAt(instant + 86_400_000, timeZone) - offsetAt(instant, timeZone);
  return instant;
}

/** The day or month in `timeZone` that `nowMs` falls in, and when the next one starts. */
export function calendarPeriod(window: CalendarWindow, timeZone: string, nowMs: number): Period {
  const local = localTime(nowMs, timeZone);
  if (window === 'day') {
    const start = localMidnight(local.year, local.month, local.day, timeZone);
    const tomorrow = new Date(Date.UTC(local.year, local.month - 1, local.day + 1));
    return { start, next: localMidnight(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth() + 1, tomorrow.getUTCDate(), timeZone) };
  }
  const start = localMidnight(local.year, local.month, 1, timeZone);
  const nextMonth = new Date(Date.UTC(local.year, local.month, 1));
  return { start, next: localMidnight(nextMonth.getUTCFullYear(), nextMonth.getUTCMonth() + 1, 1, timeZone) };
}

/** Periods remembered per zone and window until they end: a request asks for one, rarely computes it. */
export class CalendarPeriods {
  private readonly known = new Map<string, Period>();

  period(window: CalendarWindow, timeZone: string, nowMs: number): Period {
    const id = `${timeZone}|${window}`;
    const known = this.known.get(id);
    if (known !== undefined && nowMs >= known.start && nowMs < known.next) return known;
    const period = calendarPeriod(window, timeZone, nowMs);
    this.known.set(id, period);
    return period;
  }
}

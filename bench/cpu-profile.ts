// Reading a V8 .cpuprofile (node --cpu-prof): self time per function and per area (gateway code,
// each dependency, Node internals), so hot-path owners see where the time goes.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly selfMs: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Sampled time minus (idle): the time the process had work. */
  readonly busyMs: number;
  readonly functions: readonly SelfTime[];
  readonly areas: readonly SelfTime[];
  /** Gateway and contracts functions by inclusive time (self + callees), shares of busy time. */
  readonly gatewayInclusive: readonly SelfTime[];
}

const OWN_CODE = ['/gateway/src/', '/contracts/'];

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? url);
  }
  for (const area of ['gateway/src', 'contracts', 'control-plane/src']) {
    if (url.includes(`/${area}/`)) return area;
  }
  return shortUrl(url);
}

function rank(totals: Map<string, number>, totalMs: number, top: number): SelfTime[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, selfMs]) => ({ name, selfMs, share: totalMs > 0 ? selfMs / totalMs : 0 }));
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'}${url ? ` ${shortUrl(url)}:${lineNumber + 1}` : ''}`;
}

export function summariseProfile(path: string, top = 30): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    if (!node) return;
    const { functionName, url } = node.callFrame;
    const name = frameName(node);
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    totalMs += ms;
    if (functionName === '(idle)') idleMs += ms;
    // Each of our functions on this sample's stack gets the sample once (recursion counted once).
    const seen = new Set<string>();
    for (let current: ProfileNode | undefined = node; current; current = byId.get(parentOf.get(current.id) ?? -1)) {
      if (!OWN_CODE.some((part) => current?.callFrame.url.includes(part))) continue;
      const frame = frameName(current);
      if (seen.has(frame)) continue;
      seen.add(frame);
      inclusive.set(frame, (inclusive.get(frame) ?? 0) + ms);
    }
  });
  const busyMs = totalMs - idleMs;
  return {
    totalMs,
    busyMs,
    functions: rank(functions, totalMs, top),
    areas: rank(areas, totalMs, top),
    gatewayInclusive: rank(inclusive, busyMs, top),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const line = (item: SelfTime): string =>
    `${(item.share * 100).toFixed(1).padStart(5)}%  ${item.selfMs.toFixed(0).padStart(7)} ms  ${item.name}`;
  return [
    `total sampled: ${summary.totalMs.toFixed(0)} ms, busy (not idle): ${summary.busyMs.toFixed(0)} ms`,
    'shares below are of the total sampled time, except the inclusive list (of busy time)',
    '',
    'self time by area:',
    ...summary.areas.map(line),
    '',
    'top functions by self time:',
    ...summary.functions.map(line),
    '',
    'gateway and contracts functions by inclusive time (self + callees), share of busy time:',
    ...summary.gatewayInclusive.map(line),
  ].join('\n');
}

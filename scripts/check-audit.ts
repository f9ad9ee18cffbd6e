// `npm run audit:prod`: fails on any high or critical advisory against a production dependency
// (`npm audit --omit=dev`) that audit-accepted.json does not list with its reason. An accepted
// advisory past its review date counts as not accepted, so every acceptance is looked at again.
//
// Exit codes: 0 clean (or every finding accepted), 1 findings, 2 the audit could not run (the
// registry's advisory endpoint unreachable). With --allow-unavailable, 2 becomes a warning and 0:
// for machines whose registry mirror does not serve the advisory endpoint; GitHub's CI runs without it.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ACCEPTED_FILE = 'audit-accepted.json';
const FAILING = new Set(['high', 'critical']);

/** One advisory as `npm audit --json` (report version 2) lists it in a vulnerability's `via`. */
interface AuditAdvisory {
  readonly source: number;
  readonly name: string;
  readonly title: string;
  readonly url: string;
  readonly severity: string;
  readonly range: string;
}

interface AuditReport {
  readonly vulnerabilities: Readonly<Record<string, { readonly via: readonly (AuditAdvisory | string)[] }>>;
}

export interface AcceptedAdvisory {
  /** The GitHub advisory id, GHSA-xxxx-xxxx-xxxx. */
  readonly advisory: string;
  readonly package: string;
  /** Why it cannot harm Tollgate, or why it must wait. */
  readonly reason: string;
  /** ISO date; after it the acceptance lapses. */
  readonly review_by: string;
}

export interface Finding {
  readonly advisory: string;
  readonly package: string;
  readonly severity: string;
  readonly title: string;
  readonly range: string;
}

export interface Judgement {
  readonly failing: readonly Finding[];
  readonly accepted: readonly Finding[];
  /** Acceptances no finding needs any more: to be removed from the file. */
  readonly unused: readonly AcceptedAdvisory[];
}

/** The GHSA id of an advisory (its URL ends with it), else npm's number for it. */
function advisoryId(advisory: AuditAdvisory): string {
  return /GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/.exec(advisory.url)?.[0] ?? String(advisory.source);
}

/** The report's high and critical advisories, each once (a package reached by several paths repeats them). */
export function findings(report: AuditReport): Finding[] {
  const byId = new Map<string, Finding>();
  for (const vulnerability of Object.values(report.vulnerabilities)) {
    for (const via of vulnerability.via) {
      // A string names the package whose advisory this one inherits; that package is listed too.
      if (typeof via === 'string' || !FAILING.has(via.severity)) continue;
      const advisory = advisoryId(via);
      byId.set(`${advisory} ${via.name}`, { advisory, package: via.name, severity: via.severity, title: via.title, range: via.range });
    }
  }
  return [...byId.values()];
}

export function judge(report: AuditReport, acceptedList: readonly AcceptedAdvisory[], today: string): Judgement {
  const current = acceptedList.filter((entry) => entry.review_by >= today);
  const isAccepted = (finding: Finding) => current.some((entry) => entry.advisory === finding.advisory && entry.package === finding.package);
  const all = findings(report);
  return {
    failing: all.filter((finding) => !isAccepted(finding)),
    accepted: all.filter(isAccepted),
    unused: acceptedList.filter((entry) => !all.some((finding) => finding.advisory === entry.advisory && finding.package === entry.package)),
  };
}

/** The accepted list, checked: every entry needs an advisory id, a package, a reason and a review date. */
export function readAccepted(text: string): AcceptedAdvisory[] {
  const parsed = JSON.parse(text) as { accepted?: unknown };
  if (!Array.isArray(parsed.accepted)) throw new Error(`${ACCEPTED_FILE}: "accepted" must be a list`);
  return parsed.accepted.map((entry: Partial<AcceptedAdvisory>, index) => {
    const complete =
      /^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/.test(entry.advisory ?? '') &&
      typeof entry.package === 'string' &&
      typeof entry.reason === 'string' &&
      entry.reason.trim().length >= 20 &&
      /^\d{4}-\d{2}-\d{2}$/.test(entry.review_by ?? '');
    if (!complete) throw new Error(`${ACCEPTED_FILE}: entry ${index} needs advisory (GHSA-…), package, a reason of a sentence and review_by (YYYY-MM-DD)`);
    return entry as AcceptedAdvisory;
  });
}

/** `npm audit --omit=dev --json`'s report, or why there is none. */
export function parseAuditOutput(stdout: string): { report: AuditReport } | { unavailable: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return { unavailable: 'npm audit printed no JSON' };
  }
  if (typeof parsed === 'object' && parsed !== null && 'vulnerabilities' in parsed) return { report: parsed as AuditReport };
  const message = typeof parsed === 'object' && parsed !== null && 'message' in parsed ? String(parsed.message) : 'no report';
  return { unavailable: message };
}

function runNpmAudit(): Promise<string> {
  // npm audit exits 1 whenever it finds anything; the JSON on stdout is what counts.
  return new Promise((resolve) => {
    execFile('npm', ['audit', '--omit=dev', '--json'], { maxBuffer: 64 * 1024 * 1024 }, (_error, stdout) => resolve(stdout));
  });
}

function describe(finding: Finding): string {
  return `${finding.severity} ${finding.package} ${finding.range}: ${finding.title} (${finding.advisory})`;
}

async function main(): Promise<number> {
  const allowUnavailable = process.argv.includes('--allow-unavailable');
  const accepted = readAccepted(readFileSync(ACCEPTED_FILE, 'utf8'));
  const outcome = parseAuditOutput(await runNpmAudit());
  if ('unavailable' in outcome) {
    console.log(`npm audit could not run: ${outcome.unavailable}`);
    return allowUnavailable ? 0 : 2;
  }
  const { failing, accepted: waived, unused } = judge(outcome.report, accepted, new Date().toISOString().slice(0, 10));
  for (const finding of waived) console.log(`accepted: ${describe(finding)}`);
  for (const entry of unused) console.log(`no longer needed in ${ACCEPTED_FILE}: ${entry.advisory} (${entry.package})`);
  for (const finding of failing) console.log(`FAILING: ${describe(finding)}`);
  console.log(`${failing.length} high or critical advisories in production dependencies, ${waived.length} accepted`);
  return failing.length === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}

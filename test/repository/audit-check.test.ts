// The production-dependency audit gate (scripts/check-audit.ts): which findings of an
// `npm audit --omit=dev --json` report fail CI, how audit-accepted.json lets one pass, and an audit
// that could not run told apart from a clean one.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { ACCEPTED_FILE, judge, parseAuditOutput, readAccepted, type AcceptedAdvisory } from '../../scripts/check-audit.js';

const TODAY = '2026-12-07';

/** A report in npm's format (auditReportVersion 2): `parser` has its own advisory, `web` inherits it. */
function report(severity: string, extra: Record<string, unknown> = {}) {
  return {
    auditReportVersion: 2,
    vulnerabilities: {
      parser: {
        name: 'parser',
        severity,
        via: [
          {
            source: 1100001,
            name: 'parser',
            dependency: 'parser',
            title: 'parser reads past the end of its buffer',
            url: 'https://github.com/advisories/GHSA-2345-6789-cfgh',
            severity,
            range: '<2.0.1',
          },
        ],
        effects: ['web'],
        range: '<2.0.1',
        nodes: ['node_modules/parser'],
      },
      web: { name: 'web', severity, via: ['parser'], effects: [], range: '1.0.0 - 1.4.0', nodes: ['node_modules/web'] },
      ...extra,
    },
    metadata: { vulnerabilities: { high: 1, critical: 0, total: 2 } },
  };
}

const acceptance = (overrides: Partial<AcceptedAdvisory> = {}): AcceptedAdvisory => ({
  advisory: 'GHSA-2345-6789-cfgh',
  package: 'parser',
  reason: 'Only parses our own configuration files, never client input.',
  review_by: '2027-01-31',
  ...overrides,
});

t.test('a high or critical advisory fails, named once with its package, range and id', async (t) => {
  for (const severity of ['high', 'critical']) {
    const { failing } = judge(report(severity), [], TODAY);
    t.same(failing, [{ advisory: 'GHSA-2345-6789-cfgh', package: 'parser', severity, title: 'parser reads past the end of its buffer', range: '<2.0.1' }], severity);
  }
});

t.test('low and moderate advisories do not fail', async (t) => {
  for (const severity of ['info', 'low', 'moderate']) t.same(judge(report(severity), [], TODAY).failing, [], severity);
});

t.test('an advisory listed in the accepted file passes until its review date', async (t) => {
  const before = judge(report('high'), [acceptance()], TODAY);
  t.same(before.failing, []);
  t.equal(before.accepted.length, 1);
  t.equal(judge(report('high'), [acceptance({ review_by: TODAY })], TODAY).failing.length, 0, 'on the review date itself');
  t.equal(judge(report('high'), [acceptance({ review_by: '2026-12-06' })], TODAY).failing.length, 1, 'the day after, it fails again');
});

t.test('an acceptance covers only its own advisory in its own package', async (t) => {
  t.equal(judge(report('high'), [acceptance({ advisory: 'GHSA-cfgh-2345-6789' })], TODAY).failing.length, 1, 'another advisory');
  t.equal(judge(report('high'), [acceptance({ package: 'web' })], TODAY).failing.length, 1, 'another package');
});

t.test('an acceptance no finding needs is reported as unused', async (t) => {
  const { unused } = judge(report('low'), [acceptance()], TODAY);
  t.same(
    unused.map((entry) => entry.advisory),
    ['GHSA-2345-6789-cfgh'],
  );
});

t.test('an accepted-file entry without a reason, a GHSA id or a review date is refused', async (t) => {
  const file = (entry: Record<string, unknown>) => JSON.stringify({ accepted: [entry] });
  t.throws(() => readAccepted(file({ ...acceptance(), reason: '' })), /a reason of a sentence/);
  t.throws(() => readAccepted(file({ ...acceptance(), advisory: '1100001' })), /GHSA/);
  t.throws(() => readAccepted(file({ ...acceptance(), review_by: 'soon' })), /review_by/);
  t.throws(() => readAccepted('{}'), /must be a list/);
  t.same(readAccepted(file({ ...acceptance() })), [acceptance()]);
});

t.test('an audit that could not reach the advisory endpoint is told apart from a clean one', async (t) => {
  // What npm printed on a machine whose registry mirror serves GET only.
  const refused = JSON.stringify({
    message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    statusCode: 405,
    body: '',
  });
  t.same(parseAuditOutput(refused), { unavailable: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk' });
  t.same(parseAuditOutput(''), { unavailable: 'npm audit printed no JSON' });
  const clean = { auditReportVersion: 2, vulnerabilities: {}, metadata: {} };
  t.same(parseAuditOutput(JSON.stringify(clean)), { report: clean });
});

t.test('the repository accepted file is well-formed', async (t) => {
  t.doesNotThrow(() => readAccepted(readFileSync(new URL(`../../${ACCEPTED_FILE}`, import.meta.url), 'utf8')));
});

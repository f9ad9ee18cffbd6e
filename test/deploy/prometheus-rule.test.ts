// The PrometheusRule under infra/k8s is generated from observability/rules/*.yml, which the compose
// stack's Prometheus loads: both places must alert alike.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { PROMETHEUS_RULE_FILE, RULES_DIR, readRuleGroups, renderPrometheusRule } from '../../scripts/prometheus-rule.js';

const ROOT = join(import.meta.dirname, '..', '..');

t.test('the committed PrometheusRule is what npm run k8s:prometheus-rule writes from observability/rules', async (t) => {
  t.equal(readFileSync(join(ROOT, PROMETHEUS_RULE_FILE), 'utf8'), renderPrometheusRule(join(ROOT, RULES_DIR)));
});

t.test('the PrometheusRule holds every group of every rules file and nothing else', async (t) => {
  const rule = parse(readFileSync(join(ROOT, PROMETHEUS_RULE_FILE), 'utf8')) as { spec: { groups: { name: string }[] } };
  const names = rule.spec.groups.map((group) => group.name);
  t.ok(names.length > 0);
  t.same(names, (readRuleGroups(join(ROOT, RULES_DIR)) as { name: string }[]).map((group) => group.name));
});

t.test('rule groups are read from every rules file in name order, and promtool test files are left out', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'b.yml'), 'groups:\n  - name: second\n    rules: []\n');
  writeFileSync(join(dir, 'a.yaml'), 'groups:\n  - name: first\n    rules: []\n');
  writeFileSync(join(dir, 'a.test.yml'), 'rule_files: [a.yaml]\ntests: []\n');
  writeFileSync(join(dir, 'notes.txt'), 'groups: not yaml rules');
  t.same(readRuleGroups(dir), [
    { name: 'first', rules: [] },
    { name: 'second', rules: [] },
  ]);
});

t.test('a folder without rule groups is an error, not an empty PrometheusRule', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.throws(() => readRuleGroups(dir), /no rule groups found/);
});

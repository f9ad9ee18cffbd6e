// observability/: Prometheus's own tools on the scrape config and the rules (with the rules' unit
// tests), and the Grafana dashboard type-checked against @grafana/schema, the types of the
// Grafana version compose runs. Whether each query returns data is test/stack/stack.test.ts's.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import ts from 'typescript';
import { parse } from 'yaml';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OBSERVABILITY = join(ROOT, 'observability');
const dashboardText = readFileSync(join(OBSERVABILITY, 'grafana/dashboards/tollgate.json'), 'utf8');

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  options?: unknown;
  fieldConfig?: { defaults: { custom?: unknown } };
}
const dashboard = JSON.parse(dashboardText) as { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string; query: string }[] } };

t.test('promtool accepts prometheus.yml and every rule file it loads', async (t) => {
  const { stdout } = await run('promtool', ['check', 'config', join(OBSERVABILITY, 'prometheus.yml')]);
  t.match(stdout, /SUCCESS: .*prometheus\.yml is valid/);
  t.match(stdout, /tollgate-alerts\.yml/);
  t.match(stdout, /tollgate-recording\.yml/);
});

t.test('the alert rules pass their promtool unit tests', async (t) => {
  const { stdout } = await run('promtool', ['test', 'rules', join(OBSERVABILITY, 'tests/tollgate-alerts.test.yml')]);
  t.match(stdout, /SUCCESS/);
});

t.test('every alert an operator needs is defined, with a severity and a summary', async (t) => {
  const rules = parse(readFileSync(join(OBSERVABILITY, 'rules/tollgate-alerts.yml'), 'utf8')) as {
    groups: { rules: { alert: string; labels: { severity: string }; annotations: { summary: string } }[] }[];
  };
  const alerts = rules.groups.flatMap((group) => group.rules);
  const names = alerts.map((rule) => rule.alert);
  for (const name of [
    'TollgateLimiterRedisDown',
    'TollgateGatewayNotReady',
    'TollgateRateLimitedSurge',
    'TollgateUpstream5xxRatio',
    'TollgateRequestLatencyHigh',
    'TollgateRequestLogLagging',
    'TollgateRequestLogDropping',
    'TollgateConfigFeedStale',
  ]) {
    t.ok(names.includes(name), name);
  }
  for (const rule of alerts) {
    t.match(rule.labels.severity, /^(critical|warning)$/, `${rule.alert} severity`);
    t.ok(rule.annotations.summary, `${rule.alert} summary`);
  }
  const tests = readFileSync(join(OBSERVABILITY, 'tests/tollgate-alerts.test.yml'), 'utf8');
  for (const name of names) t.match(tests, `alertname: ${name}`, `${name} has a unit test`);
});

/** Type-checks `source` as a module inside the repository, so node_modules resolve as for tests. */
function typeErrors(source: string): string[] {
  const fileName = join(ROOT, 'test/deploy/dashboard-check.ts');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => (name === fileName ? source : readFile(name));
  host.fileExists = (name) => name === fileName || ts.sys.fileExists(name);
  host.getSourceFile = (name, version) =>
    name === fileName ? ts.createSourceFile(name, source, version) : getSourceFile(name, version);
  const program = ts.createProgram([fileName], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => {
      const where = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : null;
      return `${where ? `line ${where.line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
}

// The schema's string enums (FieldColorModeId, ThresholdsMode, …) as the strings JSON holds: a
// JSON file has no enum members, only their values.
const SCHEMA_PRELUDE = [
  "import type { Dashboard } from '@grafana/schema';",
  'type Json<T> = T extends string ? (string extends T ? T : `${T}`) : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
].join('\n');

t.test("the dashboard type-checks against Grafana's dashboard and panel schemas", async (t) => {
  // Object literals get TypeScript's excess-property check, so a misspelt field fails as well.
  const lines = [
    SCHEMA_PRELUDE,
    "import type { Options as TimeSeriesOptions, FieldConfig as TimeSeriesFieldConfig } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';",
    "import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';",
    `export const dashboard: Json<Dashboard> = ${dashboardText};`,
  ];
  for (const panel of dashboard.panels) {
    if (panel.type === 'timeseries') {
      lines.push(`export const options${panel.id}: Json<TimeSeriesOptions> = ${JSON.stringify(panel.options)};`);
      lines.push(`export const custom${panel.id}: Json<TimeSeriesFieldConfig> = ${JSON.stringify(panel.fieldConfig?.defaults.custom ?? {})};`);
    } else if (panel.type === 'stat') {
      lines.push(`export const options${panel.id}: Json<StatOptions> = ${JSON.stringify(panel.options)};`);
    } else {
      t.equal(panel.type, 'row', `panel ${panel.id} is a row, a time series or a stat`);
    }
  }
  t.same(typeErrors(lines.join('\n')), []);
});

t.test('a misspelt dashboard field fails the schema check', async (t) => {
  const broken = dashboardText.replace('"schemaVersion"', '"schemaVersoin"');
  const errors = typeErrors(`${SCHEMA_PRELUDE}\nexport const dashboard: Json<Dashboard> = ${broken};`);
  t.ok(errors.some((error) => /schemaVersoin/.test(error)), errors.join('\n'));
});

t.test('the dashboard panels have unique ids, do not overlap and query the data source variable', async (t) => {
  const ids = dashboard.panels.map((panel) => panel.id);
  t.equal(new Set(ids).size, ids.length, 'unique ids');
  const cells = new Set<string>();
  for (const panel of dashboard.panels) {
    const { x, y, w, h } = panel.gridPos;
    t.ok(x >= 0 && x + w <= 24, `${panel.title} fits the 24-column grid`);
    for (let row = y; row < y + h; row += 1) {
      for (let column = x; column < x + w; column += 1) {
        const cell = `${row}:${column}`;
        if (cells.has(cell)) t.fail(`${panel.title} overlaps another panel at ${cell}`);
        cells.add(cell);
      }
    }
    if (panel.type === 'row') continue;
    t.same(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, `${panel.title} uses the data source variable`);
    t.ok((panel.targets ?? []).length > 0, `${panel.title} has a query`);
    for (const target of panel.targets ?? []) t.ok(target.expr.trim(), `${panel.title} ${target.refId} has an expression`);
  }
  t.same(dashboard.templating.list.map((variable) => [variable.name, variable.type, variable.query]), [['datasource', 'datasource', 'prometheus']]);
});

t.test('Grafana provisioning loads the dashboards from where compose mounts them, and Prometheus from its service', async (t) => {
  const provider = parse(readFileSync(join(OBSERVABILITY, 'grafana/provisioning/dashboards/tollgate.yml'), 'utf8')) as {
    providers: { options: { path: string } }[];
  };
  const datasources = parse(readFileSync(join(OBSERVABILITY, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
    datasources: { type: string; url: string; isDefault: boolean }[];
  };
  const compose = parse(readFileSync(join(ROOT, 'compose/compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { volumes?: string[]; ports?: string[] }>;
  };
  const mounts = compose.services.grafana?.volumes ?? [];
  t.ok(mounts.includes(`../observability/grafana/dashboards:${provider.providers[0]?.options.path}:ro`), 'dashboards folder mounted where the provider reads');
  t.ok(mounts.includes('../observability/grafana/provisioning:/etc/grafana/provisioning:ro'), 'provisioning mounted');
  t.same(datasources.datasources.map((source) => [source.type, source.url, source.isDefault]), [['prometheus', 'http://prometheus:9090', true]]);
  t.ok(compose.services.prometheus, 'a prometheus service runs');
});

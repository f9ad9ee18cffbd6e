// The package manifest keeps its promises. `engines` says which Node versions Tollgate runs on:
// every installed package must agree with it, or `npm ci` warns (EBADENGINE) and the package may
// not even load on the oldest one. And the licence it names is in the repository.
import t from 'tap';
import { readFileSync } from 'node:fs';
import semver from 'semver';

interface Lockfile {
  readonly packages: Record<string, { readonly version?: string; readonly engines?: { readonly node?: string } }>;
}

const root = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as Lockfile;

t.test('every locked package accepts the oldest Node that engines allows', async (t) => {
  const oldest = semver.minVersion(root.engines.node);
  t.ok(oldest, `engines.node is a range: ${root.engines.node}`);
  const refusing = Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.engines?.node !== undefined)
    .filter(([, entry]) => !semver.satisfies(oldest as semver.SemVer, entry.engines?.node as string, { includePrerelease: true }))
    .map(([path, entry]) => `${path.replace(/^node_modules\//, '')}@${entry.version} needs node ${entry.engines?.node}`);
  t.same(refusing, [], refusing.join('\n'));
});

t.test('engines starts at Node 20 (the CI matrix runs 20, 22 and 24)', async (t) => {
  t.ok(semver.satisfies('20.19.0', root.engines.node));
  t.ok(semver.satisfies('22.0.0', root.engines.node));
  t.ok(semver.satisfies('24.0.0', root.engines.node));
});

t.test('the licence package.json names is in the repository', async (t) => {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { license: string };
  const licence = readFileSync(new URL('../../LICENSE', import.meta.url), 'utf8');
  t.equal(manifest.license, 'MIT');
  t.match(licence, /^MIT License/);
});

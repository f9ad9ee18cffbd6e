// The layering the code relies on, checked from the import statements themselves:
// - inside each service, the folders (and top-level modules) import each other without loops, so
//   each can be read, tested and changed from the bottom up;
// - the launcher, the bench and the end-to-end tests import only the services' entry modules.
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Repository-relative paths of the modules a file imports (relative imports only). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const targets: string[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const spec = (match[1] as string).replace(/\.js$/, '.ts');
    targets.push(relative(ROOT, resolve(dirname(file), spec)));
  }
  return targets;
}

/** The node a service file belongs to: its folder under src/, or the file itself at the top. */
function layerOf(srcDir: string, path: string): string | null {
  if (!path.startsWith(`${srcDir}/`)) return null;
  const rest = path.slice(srcDir.length + 1);
  const slash = rest.indexOf('/');
  return slash === -1 ? rest.replace(/\.ts$/, '') : `${rest.slice(0, slash)}/`;
}

/** A cycle in the layer graph of `srcDir`, as a list of layers, or null. */
function findCycle(srcDir: string): string[] | null {
  const edges = new Map<string, Set<string>>();
  for (const file of sourceFiles(join(ROOT, srcDir))) {
    const from = layerOf(srcDir, relative(ROOT, file)) as string;
    for (const target of importsOf(file)) {
      const to = layerOf(srcDir, target);
      if (to === null || to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)?.add(to);
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'visiting') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'visiting');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

for (const service of ['gateway/src', 'control-plane/src']) {
  t.test(`the folders of ${service} import each other without loops`, async (t) => {
    const cycle = findCycle(service);
    t.equal(cycle, null, cycle ? `loop: ${cycle.join(' → ')}` : 'no loop');
  });
}

const ENTRY_MODULES = new Set(['gateway/src/index.ts', 'control-plane/src/index.ts']);

// Contract tests (test/contract) check both services' halves of one wire contract at module level.
for (const outside of ['launcher', 'bench', 'test/e2e', 'test/launcher', 'test/bench']) {
  t.test(`${outside}/ reaches into the services only through their entry modules`, async (t) => {
    const reaching: string[] = [];
    for (const file of sourceFiles(join(ROOT, outside))) {
      for (const target of importsOf(file)) {
        const intoService = target.startsWith('gateway/src/') || target.startsWith('control-plane/src/');
        if (intoService && !ENTRY_MODULES.has(target)) reaching.push(`${relative(ROOT, file)} → ${target}`);
      }
    }
    t.same(reaching, [], reaching.join('\n'));
  });
}

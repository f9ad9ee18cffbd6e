// Renders a kustomize directory with `kubectl kustomize` (the kustomize built into kubectl, as CI
// and a user's `kubectl apply -k` use it) and parses the objects.
import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

export function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function renderKustomization(dir: string): Record<string, unknown>[] {
  const text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(text)
    .map((document) => document.toJS() as unknown)
    .filter((object): object is Record<string, unknown> => typeof object === 'object' && object !== null);
}

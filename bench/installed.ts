// Whether a program the bench can use is installed: it runs `name args` and looks at the exit.
import { execFileSync } from 'node:child_process';

export function isInstalled(name: string, versionArgs: readonly string[] = ['--version']): boolean {
  try {
    execFileSync(name, versionArgs, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

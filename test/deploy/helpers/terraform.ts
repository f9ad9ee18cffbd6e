// Runs the terraform CLI offline: no version check against HashiCorp, no prompts, no colours, and
// none of the machine's CLI configuration (it may name a file that does not exist).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TERRAFORM_DIR = join(import.meta.dirname, '..', '..', '..', 'infra', 'terraform');
export const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..', '..');

function terraformEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0' };
  delete env.TF_CLI_CONFIG_FILE;
  return env;
}

export function terraformAvailable(): boolean {
  return spawnSync('terraform', ['version'], { stdio: 'ignore', env: terraformEnv() }).status === 0;
}

export interface TerraformResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function terraform(args: readonly string[], cwd: string): TerraformResult {
  const result = spawnSync('terraform', [...args], { cwd, encoding: 'utf8', env: terraformEnv() });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A temporary folder removed by `cleanup`. */
export function temporaryDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Applies the provider-free cloud-init module with `variables` in a temporary copy and returns its
 * outputs (sensitive ones included). */
export function applyCloudInitModule(variables: Record<string, unknown>): Record<string, unknown> {
  const { dir, cleanup } = temporaryDir('tollgate-cloud-init-');
  try {
    cpSync(join(TERRAFORM_DIR, 'modules', 'cloud-init'), dir, { recursive: true });
    writeFileSync(join(dir, 'test.auto.tfvars.json'), JSON.stringify(variables));
    for (const args of [['init', '-no-color'], ['apply', '-auto-approve', '-no-color']]) {
      const result = terraform(args, dir);
      if (result.status !== 0) throw new Error(`terraform ${args[0]} failed:\n${result.stderr}`);
    }
    const outputs = JSON.parse(execFileSync('terraform', ['output', '-json'], { cwd: dir, encoding: 'utf8', env: terraformEnv() })) as Record<
      string,
      { value: unknown }
    >;
    return Object.fromEntries(Object.entries(outputs).map(([name, output]) => [name, output.value]));
  } finally {
    cleanup();
  }
}

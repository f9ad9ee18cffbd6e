// The Dockerfile read as stages (through dockerfile-ast), for the checks a linter does not make:
// which user, command and packages each target ends up with once its base stages are applied.
import { readFileSync } from 'node:fs';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export interface Step {
  readonly keyword: string;
  /** The arguments after the flags, as written (variables not expanded). */
  readonly text: string;
  /** `--from=build` → { from: 'build' }. */
  readonly flags: Readonly<Record<string, string>>;
  /** Exec-form (JSON array) commands of CMD, ENTRYPOINT and HEALTHCHECK CMD. */
  readonly exec: readonly string[] | null;
}

export interface Stage {
  readonly name: string;
  /** A stage name of this file or an external image (variables expanded from ARG defaults). */
  readonly base: string;
  readonly steps: readonly Step[];
}

export interface Dockerfile {
  readonly args: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
}

function execForm(text: string): string[] | null {
  const json = text.trim();
  if (!json.startsWith('[')) return null;
  const parsed: unknown = JSON.parse(json);
  return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : null;
}

function stepOf(instruction: Instruction): Step {
  const keyword = instruction.getKeyword();
  const flags: Record<string, string> = {};
  const withFlags = instruction as Instruction & { getFlags?: () => { getName(): string; getValue(): string | null }[] };
  for (const flag of withFlags.getFlags?.() ?? []) flags[flag.getName()] = flag.getValue() ?? '';
  let text = instruction.getRawArgumentsContent() ?? '';
  // Flags come first; what follows them is the instruction's own text.
  text = text.replace(/^(\s*--[a-z-]+(=\S*)?\s+)+/, '').replace(/\\\n\s*/g, '');
  let exec: string[] | null = null;
  if (keyword === 'CMD' || keyword === 'ENTRYPOINT') exec = execForm(text);
  if (keyword === 'HEALTHCHECK' && /^CMD\s/.test(text)) exec = execForm(text.slice(3));
  return { keyword, text, flags, exec };
}

export function readDockerfile(path: string): Dockerfile {
  const document = DockerfileParser.parse(readFileSync(path, 'utf8'));
  const args: Record<string, string> = {};
  const stages: { name: string; base: string; steps: Step[] }[] = [];
  for (const instruction of document.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') {
      const words = (instruction.getRawArgumentsContent() ?? '').trim().split(/\s+/);
      const base = (words[0] ?? '').replace(/\$\{?(\w+)\}?/g, (_match, name: string) => args[name] ?? '');
      const asIndex = words.findIndex((word) => word.toUpperCase() === 'AS');
      stages.push({ name: asIndex >= 0 ? (words[asIndex + 1] ?? '') : String(stages.length), base, steps: [] });
    } else if (keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = (instruction.getRawArgumentsContent() ?? '').trim().split('=', 2);
      if (name) args[name] = value;
    } else {
      stages.at(-1)?.steps.push(stepOf(instruction));
    }
  }
  return { args, stages };
}

/** The stage and the stages it is built on, outermost base first. */
export function stageChain(dockerfile: Dockerfile, name: string): Stage[] {
  const chain: Stage[] = [];
  let current = dockerfile.stages.find((stage) => stage.name === name);
  while (current) {
    chain.unshift(current);
    const base = current.base;
    current = dockerfile.stages.find((stage) => stage.name === base);
  }
  if (chain.length === 0) throw new Error(`no stage ${name}`);
  return chain;
}

/** The last step with this keyword that applies to the stage (its own or inherited). */
export function effectiveStep(dockerfile: Dockerfile, name: string, keyword: string): Step | undefined {
  return stageChain(dockerfile, name)
    .flatMap((stage) => stage.steps)
    .filter((step) => step.keyword === keyword)
    .at(-1);
}

/** The external image a stage ends up on. */
export function baseImage(dockerfile: Dockerfile, name: string): string {
  return stageChain(dockerfile, name)[0]?.base ?? '';
}

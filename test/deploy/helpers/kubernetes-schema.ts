// Offline, strict validation of Kubernetes objects, judged as an API server with strict field
// validation (kubectl's default) would. Two checks, because neither catches everything alone:
// - kubernetes-models' runtime validators (JSON schemas from the Kubernetes OpenAPI definitions):
//   types, required fields and formats, each error with its path; unknown fields pass unnoticed.
// - a walk of every object along the same package's TypeScript interfaces, read by the TypeScript
//   compiler: a field that the interface does not declare, at any depth, is reported.
// The Prometheus operator's kinds come from @kubernetes-models/prometheus-operator. A kind that no
// package models is itself a problem, so nothing goes unchecked.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';

export interface SchemaProblem {
  /** `Kind/name` of the object. */
  readonly object: string;
  /** Dotted path inside the object, `spec.template.spec.containers[0].image`; empty for the root. */
  readonly path: string;
  readonly message: string;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

const require = createRequire(import.meta.url);
const ROOT = join(import.meta.dirname, '..', '..', '..');

/** The module holding the model of `apiVersion`/`kind`, or undefined when no package models it. */
function modelModule(apiVersion: string, kind: string): string | undefined {
  const candidates = [
    apiVersion.startsWith('monitoring.coreos.com/') ? `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}` : undefined,
    `kubernetes-models/${apiVersion}/${kind}`,
  ];
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    try {
      require.resolve(candidate);
      return candidate;
    } catch {
      // not modelled by this package
    }
  }
  return undefined;
}

function describe(object: Record<string, unknown>): string {
  const metadata = object.metadata as { name?: unknown } | undefined;
  return `${String(object.kind)}/${typeof metadata?.name === 'string' ? metadata.name : '?'}`;
}

function jsonPointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
}

function runtimeProblems(object: Record<string, unknown>, module: string): SchemaProblem[] {
  const exports = require(module) as Record<string, ModelClass>;
  const Model = exports[String(object.kind)];
  if (Model === undefined) return [{ object: describe(object), path: '', message: `${module} exports no ${String(object.kind)}` }];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!Array.isArray(errors)) throw error;
    return errors.map((entry) => ({
      object: describe(object),
      path: jsonPointerToPath(entry.instancePath),
      message: entry.message ?? 'is invalid',
    }));
  }
}

const declarationFiles = new Map<string, ts.SourceFile>();

/** The declared type of every model interface, read from the packages' declaration files. */
function modelTypes(kinds: readonly { module: string; kind: string }[]): { checker: ts.TypeChecker; types: ts.Type[] } {
  const text = kinds
    .map(({ module, kind }, index) => `import type { I${kind} as T${index} } from '${module}';\nexport declare const o${index}: T${index};`)
    .join('\n');
  const fileName = join(ROOT, '__kubernetes_models__.ts');
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2023, true);
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) => {
    if (name === fileName) return source;
    // The packages' declaration files do not change: parse each once per process.
    let parsed = declarationFiles.get(name);
    if (parsed === undefined) {
      parsed = readSourceFile(name, languageVersion, ...rest);
      if (parsed !== undefined) declarationFiles.set(name, parsed);
    }
    return parsed;
  };
  const program = ts.createProgram([fileName], options, host);
  // An interface that failed to load would be `any` and let every field through.
  const diagnostics = program.getSemanticDiagnostics(source);
  if (diagnostics.length > 0) {
    throw new Error(`cannot load the model interfaces: ${ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, ' ')}`);
  }
  const checker = program.getTypeChecker();
  const declarations = source.statements.filter(ts.isVariableStatement).map((statement) => statement.declarationList.declarations[0]);
  return { checker, types: declarations.map((declaration) => checker.getTypeAtLocation(declaration!.name)) };
}

/** Walks `value` along `type` and reports every field the type does not declare. Free-form maps
 * (labels, annotations, ConfigMap data) are types with a string index and accept any key. */
function unknownFields(checker: ts.TypeChecker, value: unknown, type: ts.Type, path: string, report: (path: string) => void): void {
  const target = checker.getNonNullableType(type);
  if (Array.isArray(value)) {
    const element = checker.getIndexTypeOfType(target, ts.IndexKind.Number);
    if (element !== undefined) value.forEach((item, index) => unknownFields(checker, item, element, `${path}[${index}]`, report));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  // Primitive members of a union (IntOrString, `number | string` expressions) say nothing about
  // objects; a wrong type is the runtime validator's finding.
  const members = (target.isUnion() ? target.types : [target]).filter((member) => (member.flags & ts.TypeFlags.Object) !== 0);
  if (members.length === 0) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    const property = members.map((member) => member.getProperty(key)).find((symbol) => symbol !== undefined);
    if (property !== undefined) {
      unknownFields(checker, child, checker.getTypeOfSymbol(property), childPath, report);
      continue;
    }
    const index = members.map((member) => checker.getIndexTypeOfType(member, ts.IndexKind.String)).find((entry) => entry !== undefined);
    if (index !== undefined) unknownFields(checker, child, index, childPath, report);
    else report(childPath);
  }
}

/** Every problem of every object; an empty list means all of them are valid. */
export function validateKubernetesObjects(objects: readonly unknown[]): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const records: Record<string, unknown>[] = [];
  const modules: string[] = [];
  for (const object of objects) {
    if (typeof object !== 'object' || object === null || Array.isArray(object)) {
      problems.push({ object: '?', path: '', message: 'is not an object' });
      continue;
    }
    const record = object as Record<string, unknown>;
    const { apiVersion, kind } = record;
    const module = typeof apiVersion === 'string' && typeof kind === 'string' ? modelModule(apiVersion, kind) : undefined;
    if (module === undefined) {
      problems.push({ object: describe(record), path: '', message: `no schema for apiVersion ${String(apiVersion)}, kind ${String(kind)}` });
      continue;
    }
    records.push(record);
    modules.push(module);
    problems.push(...runtimeProblems(record, module));
  }
  const { checker, types } = modelTypes(
    records.map((record, index) => ({ module: modules[index]!, kind: String(record.kind) })),
  );
  records.forEach((record, index) => {
    unknownFields(checker, record, types[index]!, '', (path) =>
      problems.push({ object: describe(record), path, message: 'unknown field' }),
    );
  });
  return problems;
}

export function formatProblems(problems: readonly SchemaProblem[]): string {
  return problems.map((problem) => `${problem.object} ${problem.path || '(root)'}: ${problem.message}`).join('\n');
}

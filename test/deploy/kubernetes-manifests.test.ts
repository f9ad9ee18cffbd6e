// infra/k8s as `kubectl kustomize` renders it: every object of both overlays passes the strict
// offline schema check, and the properties the deployment guide promises hold in what would be
// applied (non-root, drain time, disruption budget, probes, no secret values, routing).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DRAIN_GRACE_MS } from '../../gateway/src/server.js';
import { formatProblems, validateKubernetesObjects } from './helpers/kubernetes-schema.js';
import { kubectlAvailable, renderKustomization } from './helpers/kustomize.js';

const K8S_DIR = join(import.meta.dirname, '..', '..', 'infra', 'k8s');
const OVERLAYS = ['dev', 'prod'] as const;

const skip = kubectlAvailable() ? false : 'kubectl is not installed: install Debian’s kubectl package (.ci/run does)';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, checked field by field below
type K8sObject = Record<string, any>;

const rendered = new Map(
  OVERLAYS.map((overlay) => [overlay, skip ? [] : (renderKustomization(join(K8S_DIR, 'overlays', overlay)) as K8sObject[])]),
);

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const object = objects.find((candidate) => candidate.kind === kind && candidate.metadata?.name === name);
  if (object === undefined) throw new Error(`no ${kind}/${name}`);
  return object;
}

/** A copy of infra/k8s in a temporary folder, so a test can change it and render the copy. */
function copyOfK8s(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-k8s-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(K8S_DIR, dir, { recursive: true });
  return dir;
}

for (const overlay of OVERLAYS) {
  t.test(`every object of the ${overlay} overlay passes the strict schema check`, { skip }, async (t) => {
    const objects = rendered.get(overlay)!;
    t.ok(objects.length > 0, 'the overlay renders objects');
    const problems = validateKubernetesObjects(objects);
    t.equal(formatProblems(problems), '', 'no schema problems');
  });
}

t.test('a misspelt key in a manifest fails the check although kustomize renders it', { skip }, async (t) => {
  const dir = copyOfK8s(t);
  const file = join(dir, 'base', 'gateway', 'deployment.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('imagePullPolicy:', 'imagePullPolcy:'));
  const problems = validateKubernetesObjects(renderKustomization(join(dir, 'overlays', 'prod')));
  t.same(
    problems.map((problem) => `${problem.object} ${problem.path}: ${problem.message}`),
    ['Deployment/tollgate-gateway spec.template.spec.containers[0].imagePullPolcy: unknown field'],
  );
});

for (const overlay of OVERLAYS) {
  t.test(`every container of the ${overlay} overlay runs non-root on a read-only root filesystem without privileges`, { skip }, async (t) => {
    for (const deployment of rendered.get(overlay)!.filter((object) => object.kind === 'Deployment')) {
      const pod = deployment.spec.template.spec;
      t.equal(pod.securityContext.runAsNonRoot, true, `${deployment.metadata.name} runs as non-root`);
      t.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault', `${deployment.metadata.name} has the default seccomp profile`);
      t.equal(pod.automountServiceAccountToken, false, `${deployment.metadata.name} gets no API token`);
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        const name = `${deployment.metadata.name}/${container.name}`;
        t.equal(container.securityContext.readOnlyRootFilesystem, true, `${name} has a read-only root filesystem`);
        t.equal(container.securityContext.allowPrivilegeEscalation, false, `${name} cannot escalate`);
        t.same(container.securityContext.capabilities.drop, ['ALL'], `${name} drops every capability`);
        t.ok(container.resources.requests.cpu && container.resources.limits.memory, `${name} has a CPU request and a memory limit`);
      }
    }
  });
}

t.test("the gateway's grace period covers its preStop pause and the whole SIGTERM drain", { skip }, async (t) => {
  for (const overlay of OVERLAYS) {
    const pod = find(rendered.get(overlay)!, 'Deployment', 'tollgate-gateway').spec.template.spec;
    const preStopSeconds = pod.containers[0].lifecycle.preStop.sleep.seconds as number;
    t.ok(preStopSeconds >= 1, `${overlay}: preStop pauses before SIGTERM`);
    t.ok(
      pod.terminationGracePeriodSeconds >= preStopSeconds + DRAIN_GRACE_MS / 1000 + 5,
      `${overlay}: ${pod.terminationGracePeriodSeconds} s ≥ ${preStopSeconds} s + ${DRAIN_GRACE_MS / 1000} s + 5 s`,
    );
  }
});

t.test("the disruption budget still allows an eviction at the autoscaler's minimum", { skip }, async (t) => {
  for (const overlay of OVERLAYS) {
    const objects = rendered.get(overlay)!;
    const minReplicas = find(objects, 'HorizontalPodAutoscaler', 'tollgate-gateway').spec.minReplicas as number;
    const budget = find(objects, 'PodDisruptionBudget', 'tollgate-gateway').spec;
    const allowed = budget.maxUnavailable !== undefined ? Math.min(budget.maxUnavailable, minReplicas) : minReplicas - budget.minAvailable;
    t.ok(allowed >= 1, `${overlay}: ${allowed} eviction(s) allowed at ${minReplicas} gateway(s)`);
  }
});

t.test('a gateway gets traffic once /readyz answered on the ops port, then stays in while the process lives', { skip }, async (t) => {
  const container = find(rendered.get('prod')!, 'Deployment', 'tollgate-gateway').spec.template.spec.containers[0];
  t.same(container.startupProbe.httpGet, { path: '/readyz', port: 'ops' });
  t.same(container.readinessProbe.httpGet, { path: '/healthz', port: 'ops' });
  t.same(container.livenessProbe.httpGet, { path: '/healthz', port: 'ops' });
  t.ok(container.ports.some((port: K8sObject) => port.name === 'ops' && port.containerPort === 9080), 'ops is port 9080');
});

t.test('the migrations run in an init container of the control plane, before it starts', { skip }, async (t) => {
  const pod = find(rendered.get('prod')!, 'Deployment', 'tollgate-control-plane').spec.template.spec;
  t.same(pod.initContainers.map((container: K8sObject) => container.command), [['node', 'dist/control-plane/src/migrate-cli.js']]);
  t.equal(pod.initContainers[0].image, pod.containers[0].image, 'the same image as the control plane');
});

t.test('no secret value is in the manifests: no Secret object, every secret setting is a secretKeyRef', { skip }, async (t) => {
  const secretSettings = ['REDIS_URL', 'DATABASE_URL', 'ADMIN_TOKEN', 'ADMIN_USER', 'ADMIN_PASSWORD'];
  for (const overlay of OVERLAYS) {
    const objects = rendered.get(overlay)!;
    t.equal(objects.filter((object) => object.kind === 'Secret').length, 0, `${overlay}: no Secret object`);
    for (const configMap of objects.filter((object) => object.kind === 'ConfigMap')) {
      t.same(Object.keys(configMap.data).filter((key) => secretSettings.includes(key)), [], `${overlay}: ${configMap.metadata.name} holds no secret`);
    }
    for (const deployment of objects.filter((object) => object.kind === 'Deployment')) {
      const pod = deployment.spec.template.spec;
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        for (const variable of (container.env ?? []).filter((entry: K8sObject) => secretSettings.includes(entry.name))) {
          t.ok(variable.valueFrom?.secretKeyRef, `${overlay}: ${container.name} reads ${variable.name} from a Secret`);
          t.equal(variable.value, undefined);
        }
      }
    }
  }
});

t.test('the Ingress sends the API, the admin UI and the API documents to the control plane and the rest to the gateways', { skip }, async (t) => {
  const paths = find(rendered.get('prod')!, 'Ingress', 'tollgate').spec.rules[0].http.paths as K8sObject[];
  t.same(
    paths.map((path) => `${path.path} ${path.backend.service.name}`),
    ['/v1 tollgate-control-plane', '/admin tollgate-control-plane', '/openapi.json tollgate-control-plane', '/docs tollgate-control-plane', '/ tollgate-gateway'],
  );
});

t.test('the prod Ingress has TLS from cert-manager and the dev Ingress none', { skip }, async (t) => {
  const prod = find(rendered.get('prod')!, 'Ingress', 'tollgate');
  t.equal(prod.metadata.annotations['cert-manager.io/cluster-issuer'], 'letsencrypt-prod');
  t.same(prod.spec.tls, [{ hosts: [prod.spec.rules[0].host], secretName: 'tollgate-tls' }]);
  t.equal(find(rendered.get('dev')!, 'Ingress', 'tollgate').spec.tls, undefined);
});

t.test('every image is pulled from a registry at a tag', { skip }, async (t) => {
  for (const overlay of OVERLAYS) {
    for (const deployment of rendered.get(overlay)!.filter((object) => object.kind === 'Deployment')) {
      const pod = deployment.spec.template.spec;
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        t.match(container.image, /^ghcr\.io\/[a-z0-9-]+\/tollgate-(gateway|control-plane):[\w.-]+$/, `${overlay}: ${container.name}`);
      }
    }
  }
});

t.test('the without-prometheus-operator component drops every Prometheus operator object and nothing else', { skip }, async (t) => {
  const dir = copyOfK8s(t);
  mkdirSync(join(dir, 'overlays', 'plain'));
  writeFileSync(
    join(dir, 'overlays', 'plain', 'kustomization.yaml'),
    'resources:\n  - ../dev\ncomponents:\n  - ../../components/without-prometheus-operator\n',
  );
  const kinds = (objects: K8sObject[]) => objects.map((object) => `${object.kind}/${object.metadata.name}`).sort();
  const withOperator = kinds(rendered.get('dev')!);
  const without = kinds(renderKustomization(join(dir, 'overlays', 'plain')));
  const operatorKinds = /^(ServiceMonitor|PrometheusRule)\//;
  t.ok(withOperator.some((name) => operatorKinds.test(name)), 'the dev overlay has Prometheus operator objects');
  t.same(without, withOperator.filter((name) => !operatorKinds.test(name)));
});

// The offline Kubernetes validator itself: it must fail on what an API server with strict field
// validation refuses (a misspelt field at any depth, a wrong type, a missing required field, an
// unknown kind) and pass free-form maps such as labels.
import t from 'tap';
import { validateKubernetesObjects, type SchemaProblem } from './helpers/kubernetes-schema.js';

function deployment(container: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web' } },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1', ...container }] } },
    },
  };
}

const paths = (problems: SchemaProblem[]) => problems.map((problem) => `${problem.object} ${problem.path}: ${problem.message}`);

t.test('a valid Deployment has no problems', async (t) => {
  t.same(validateKubernetesObjects([deployment({ imagePullPolicy: 'Always', ports: [{ containerPort: 80 }] })]), []);
});

t.test('a misspelt field deep inside a pod template is reported with its path', async (t) => {
  const problems = validateKubernetesObjects([deployment({ imagePullPolcy: 'Always', ports: [{ containerPort: 80, protocl: 'TCP' }] })]);
  t.same(paths(problems), [
    'Deployment/web spec.template.spec.containers[0].imagePullPolcy: unknown field',
    'Deployment/web spec.template.spec.containers[0].ports[0].protocl: unknown field',
  ]);
});

t.test('a misspelt field at the top of an object is reported', async (t) => {
  const problems = validateKubernetesObjects([{ ...deployment({}), specc: {} }]);
  t.same(paths(problems), ['Deployment/web specc: unknown field']);
});

t.test('a misspelt field in a Prometheus operator kind is reported', async (t) => {
  const serviceMonitor = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: 'web' },
    spec: { selector: { matchLabels: { app: 'web' } }, endpoints: [{ port: 'ops', intervl: '15s' }] },
  };
  t.same(paths(validateKubernetesObjects([serviceMonitor])), ['ServiceMonitor/web spec.endpoints[0].intervl: unknown field']);
});

t.test('labels, annotations and ConfigMap data accept any key', async (t) => {
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', labels: { 'any.example/key': 'x' }, annotations: { 'whatever/else': 'y' } },
    data: { LOG_LEVEL: 'info', 'routes.yaml': 'routes: []' },
  };
  t.same(validateKubernetesObjects([configMap]), []);
});

t.test('a field of the wrong type is reported', async (t) => {
  const problems = validateKubernetesObjects([{ ...deployment({}), spec: { ...(deployment({}).spec as object), replicas: 'two' } }]);
  t.same(paths(problems), ['Deployment/web spec.replicas: must be integer']);
});

t.test('a missing required field is reported', async (t) => {
  const withoutSelector = deployment({});
  delete (withoutSelector.spec as Record<string, unknown>).selector;
  t.same(paths(validateKubernetesObjects([withoutSelector])), ['Deployment/web spec: must have required property selector']);
});

t.test('a kind that no schema describes is a problem, not a pass', async (t) => {
  const certificate = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'tls' }, spec: {} };
  t.same(paths(validateKubernetesObjects([certificate])), ['Certificate/tls : no schema for apiVersion cert-manager.io/v1, kind Certificate']);
});

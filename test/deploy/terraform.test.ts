// infra/terraform offline: formatting, the variables' validation rules (run by terraform itself on
// a copy of variables.tf, which needs no provider), and the VM's cloud-config, rendered by applying
// the provider-free cloud-init module. `terraform validate` of the whole configuration needs the
// OCI provider, which only CI on GitHub can download.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { parse } from 'yaml';
import { applyCloudInitModule, REPOSITORY_ROOT, TERRAFORM_DIR, temporaryDir, terraform, terraformAvailable } from './helpers/terraform.js';

const skip = terraformAvailable()
  ? false
  : 'terraform is not installed and Debian does not package it: CI on GitHub runs these checks (hashicorp/setup-terraform)';

t.test('the Terraform files and both examples are formatted as terraform fmt writes them', { skip }, async (t) => {
  const result = terraform(['fmt', '-check', '-recursive', '-diff', '-no-color', TERRAFORM_DIR], REPOSITORY_ROOT);
  t.equal(result.status, 0, result.stdout + result.stderr);
  const { dir, cleanup } = temporaryDir('tollgate-tf-fmt-');
  t.teardown(cleanup);
  copyFileSync(join(TERRAFORM_DIR, 'terraform.tfvars.example'), join(dir, 'example.tfvars'));
  copyFileSync(join(TERRAFORM_DIR, 'backend.tf.example'), join(dir, 'backend.tf'));
  const examples = terraform(['fmt', '-check', '-diff', '-no-color', dir], dir);
  t.equal(examples.status, 0, examples.stdout + examples.stderr);
});

/** terraform plan of variables.tf alone (no provider needed) with the example values and `extra`. */
function planVariables(t: Test, extra: string[]): { status: number | null; output: string } {
  const { dir, cleanup } = temporaryDir('tollgate-tf-vars-');
  t.teardown(cleanup);
  copyFileSync(join(TERRAFORM_DIR, 'variables.tf'), join(dir, 'variables.tf'));
  copyFileSync(join(TERRAFORM_DIR, 'terraform.tfvars.example'), join(dir, 'terraform.tfvars'));
  const init = terraform(['init', '-no-color'], dir);
  if (init.status !== 0) throw new Error(init.stderr);
  const plan = terraform(['plan', '-no-color', ...extra.flatMap((assignment) => ['-var', assignment])], dir);
  return { status: plan.status, output: plan.stdout + plan.stderr };
}

t.test('the example variables pass every validation rule', { skip }, async (t) => {
  const plan = planVariables(t, []);
  t.equal(plan.status, 0, plan.output);
});

t.test('SSH open to the whole internet is refused', { skip }, async (t) => {
  const plan = planVariables(t, ['ssh_allowed_cidr=0.0.0.0/0']);
  t.not(plan.status, 0);
  t.match(plan.output, 'ssh_allowed_cidr must be an IPv4 CIDR block narrower than the whole internet');
});

t.test('a subnet outside the VCN is refused', { skip }, async (t) => {
  const plan = planVariables(t, ['vcn_cidr=10.42.0.0/16', 'subnet_cidr=10.43.1.0/24']);
  t.not(plan.status, 0);
  t.match(plan.output, 'subnet_cidr must be an IPv4 CIDR block inside vcn_cidr');
});

t.test('more memory than 64 GB per OCPU is refused', { skip }, async (t) => {
  const plan = planVariables(t, ['instance_ocpus=1', 'instance_memory_gb=65']);
  t.not(plan.status, 0);
  t.match(plan.output, 'instance_memory_gb must be from 1 to 64 GB per OCPU');
});

t.test('a domain without a Let’s Encrypt contact address is refused', { skip }, async (t) => {
  const plan = planVariables(t, ['domain_name=api.example.com']);
  t.not(plan.status, 0);
  t.match(plan.output, 'letsencrypt_email must be an e-mail address when domain_name is set');
});

const CLOUD_INIT_SCHEMA = '/usr/lib/python3/dist-packages/cloudinit/config/schemas/schema-cloud-config-v1.json';

function cloudInitSkip(): string | false {
  return spawnSync('cloud-init', ['--version']).status === 0 && existsSync(CLOUD_INIT_SCHEMA)
    ? false
    : 'cloud-init is not installed: install Debian’s cloud-init package (.ci/run does)';
}

interface WriteFile {
  path: string;
  content: string;
  permissions: string;
}

interface CloudConfig {
  packages: string[];
  runcmd: string[][];
  write_files: WriteFile[];
  [key: string]: unknown;
}

const moduleVariables = {
  repository_root: REPOSITORY_ROOT,
  image_registry: 'ghcr.io/example-org',
  tollgate_version: '1.2.3',
  gateway_upstream: 'http://api.internal.example:8000',
  settings: { TOLLGATE_HTTP_PORT: '80', LOG_LEVEL: 'info', ADMIN_USER: 'admin' },
  secrets: { ADMIN_TOKEN: 'token-for-the-test-only-0123456789abcdef', POSTGRES_PASSWORD: 'postgres-test-password' },
  domain_name: 'api.example.com',
  letsencrypt_email: 'ops@example.com',
};

const outputs = skip ? {} : applyCloudInitModule(moduleVariables);
const cloudConfigText = String(outputs.cloud_config ?? '');
const cloudConfig = (skip ? {} : parse(cloudConfigText)) as CloudConfig;
const written = (path: string): WriteFile => {
  const file = cloudConfig.write_files.find((entry) => entry.path === path);
  if (file === undefined) throw new Error(`cloud-init writes no ${path}`);
  return file;
};

t.test('the user data is the cloud-config, gzip-compressed, and fits OCI’s 32,000-byte metadata limit with an SSH key', { skip }, async (t) => {
  const userData = String(outputs.user_data);
  t.equal(gunzipSync(Buffer.from(userData, 'base64')).toString('utf8'), cloudConfigText);
  t.ok(userData.length + 800 <= 32_000, `${userData.length} bytes of user data`);
});

t.test('the cloud-config passes cloud-init’s own schema', { skip: skip || cloudInitSkip() }, async (t) => {
  const { dir, cleanup } = temporaryDir('tollgate-cloud-config-');
  t.teardown(cleanup);
  const file = join(dir, 'user-data.yaml');
  writeFileSync(file, cloudConfigText);
  const result = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
  t.equal(result.status, 0, result.stdout + result.stderr);
  // cloud-init's schema checks inside each module's keys; the keys themselves must be modules'.
  const schema = JSON.parse(readFileSync(CLOUD_INIT_SCHEMA, 'utf8')) as {
    allOf: { $ref: string }[];
    $defs: Record<string, { properties?: Record<string, unknown> }>;
  };
  const known = new Set(schema.allOf.flatMap((entry) => Object.keys(schema.$defs[entry.$ref.replace('#/$defs/', '')]?.properties ?? {})));
  t.same(Object.keys(cloudConfig).filter((key) => !known.has(key)), [], 'every top-level key belongs to a cloud-init module');
});

t.test('every file of the compose stack reaches /opt/tollgate as the repository has it', { skip }, async (t) => {
  const stackFiles = outputs.stack_files as string[];
  for (const required of ['compose/compose.yaml', 'compose/compose.tls.yaml', 'nginx/nginx.conf', 'observability/prometheus.yml', 'observability/grafana/dashboards/tollgate.json']) {
    t.ok(stackFiles.includes(required), `${required} is copied`);
  }
  t.ok(stackFiles.some((file) => file.startsWith('observability/rules/')), 'the alert and recording rules are copied');
  for (const file of stackFiles) {
    t.equal(written(`/opt/tollgate/${file}`).content, readFileSync(join(REPOSITORY_ROOT, file), 'utf8'), file);
  }
});

t.test('every service that compose.yaml builds runs the released image instead, and the gateways proxy the given API', { skip }, async (t) => {
  // merge: compose files share settings through YAML merge keys (`<<: *gateway`).
  const compose = parse(readFileSync(join(REPOSITORY_ROOT, 'compose', 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { build?: unknown }>;
  };
  const override = parse(written('/opt/tollgate/compose/compose.oci.yaml').content) as {
    services: Record<string, { image: string; environment?: Record<string, string> }>;
  };
  const built = Object.entries(compose.services).filter(([, service]) => service.build !== undefined).map(([name]) => name).sort();
  t.same(Object.keys(override.services).sort(), built);
  for (const [name, service] of Object.entries(override.services)) {
    t.match(service.image, /^ghcr\.io\/example-org\/tollgate-(gateway|control-plane):1\.2\.3$/, `${name} runs ${service.image}`);
    if (name.startsWith('gateway')) t.equal(service.environment?.GATEWAY_UPSTREAM, 'http://api.internal.example:8000');
  }
});

t.test('the .env holds every setting and secret single-quoted and is readable by root only', { skip }, async (t) => {
  const env = written('/opt/tollgate/compose/.env');
  t.equal(env.permissions, '0600');
  const lines = env.content.trimEnd().split('\n');
  t.ok(lines.includes("ADMIN_TOKEN='token-for-the-test-only-0123456789abcdef'"));
  t.ok(lines.includes("POSTGRES_PASSWORD='postgres-test-password'"));
  t.ok(lines.includes("TOLLGATE_HTTP_PORT='80'"));
  t.ok(lines.includes("COMPOSE_FILE='compose.yaml:compose.oci.yaml'"));
  t.ok(lines.includes("TLS_CERT_DIR='/var/lib/tollgate/tls'"));
  t.same(lines.filter((line) => !/^[A-Z][A-Z0-9_]*='[^'\n]*'$/.test(line)), [], 'every line is NAME=\'value\'');
});

t.test('the stack starts from an enabled systemd unit, after the data volume is mounted and Docker is installed', { skip }, async (t) => {
  const commands = cloudConfig.runcmd.map((command) => command.join(' '));
  const position = (text: string) => commands.findIndex((command) => command.includes(text));
  t.ok(position('tollgate-prepare-data') >= 0, 'the data volume is prepared');
  t.ok(position('tollgate-prepare-data') < position('apt-get install -y docker.io docker-compose-v2'), 'before Docker is installed');
  t.ok(position('docker-compose-v2') < position('enable --now docker.service tollgate.service'), 'before the unit is enabled and started');
  const unit = written('/etc/systemd/system/tollgate.service').content;
  t.match(unit, /^WantedBy=multi-user\.target$/m, 'started at every boot');
  t.match(unit, /^RequiresMountsFor=\/var\/lib\/tollgate$/m, 'only with the data volume mounted');
  t.match(unit, /^WorkingDirectory=\/opt\/tollgate\/compose$/m);
  t.match(written('/etc/docker/daemon.json').content, '"data-root": "/var/lib/tollgate/docker"');
});

t.test('with a domain, cloud-init tries for a certificate at first boot; without one it never runs certbot', { skip }, async (t) => {
  t.ok(cloudConfig.runcmd.some((command) => command.join(' ').includes('tollgate-enable-tls')));
  t.equal(written('/etc/tollgate/tls.env').content, "DOMAIN='api.example.com'\nEMAIL='ops@example.com'\n");
  const plain = parse(String(applyCloudInitModule({ ...moduleVariables, domain_name: '', letsencrypt_email: '' }).cloud_config)) as CloudConfig;
  t.notOk(plain.runcmd.some((command) => command.join(' ').includes('tollgate-enable-tls')));
  t.equal(plain.write_files.find((file) => file.path === '/etc/tollgate/tls.env')?.content, '');
});

t.test('the VM’s shell scripts pass shellcheck', { skip: spawnSync('shellcheck', ['--version']).status === 0 ? false : 'shellcheck is not installed (.ci/run installs it)' }, async (t) => {
  const scripts = ['prepare-data.sh', 'open-firewall.sh', 'enable-tls.sh'].map((name) => join(TERRAFORM_DIR, 'modules', 'cloud-init', 'files', name));
  const result = spawnSync('shellcheck', ['--shell=sh', ...scripts], { encoding: 'utf8' });
  t.equal(result.status, 0, result.stdout + result.stderr);
});

/**
 * The helm chart (deploy/helm/tracee-ts), validated without a cluster:
 *   1. rendered with deploy/helm/render.ts (Helm's template semantics on the
 *      project's Go-template engine) for the default values and several value sets;
 *   2. every document parsed as YAML;
 *   3. every object validated against the Kubernetes API schema of its kind
 *      (kubernetes-models' validators, generated from the Kubernetes OpenAPI
 *      spec; the ServiceMonitor from @kubernetes-models/prometheus-operator);
 *   4. every object checked for fields the API does not know (the API server
 *      rejects them with strict field validation): TypeScript's excess-property
 *      check of each object as a literal of that kind's type;
 *   5. the security-relevant settings asserted explicitly: privileged, hostPID,
 *      host mounts, RBAC verbs and resources.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import ts from 'typescript';
import { applySet, ChartRenderError, manifests, renderChart, type Manifest, type RenderOptions } from '../../deploy/helm/render.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const CHART = join(ROOT, 'deploy', 'helm', 'tracee-ts');
const NS = 'tracee-system';
const RELEASE = 'tracee-ts';

const VALUE_SETS: Record<string, RenderOptions> = {
  defaults: {},
  // everything switched on
  full: {
    values: [{
      tracee: { output: 'json', rules: ['TRC-102', 'fileless_execution'], buffers: '8192', extraArgs: ['--scope', 'not-container'], env: [{ name: 'EXTRA', value: 'x' }] },
      policies: {
        signatures: {
          apiVersion: 'tracee.aquasec.com/v1beta1', kind: 'Policy',
          metadata: { name: 'signatures', annotations: { description: 'every signature' } },
          spec: { scope: ['global'], rules: [{ event: 'anti_debugging' }, { event: 'fileless_execution' }] },
        },
        'as-text': 'apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nmetadata:\n  name: as-text\nspec:\n  scope: [container]\n  rules: [{event: anti_debugging}]\n',
      },
      containers: { sockets: { docker: { enabled: true }, crio: { enabled: true }, podman: { enabled: true } } },
      hostMounts: { debugfs: true },
      metrics: { serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } }, service: { annotations: { 'example.com/a': 'b' } } },
      falcosidekick: { enabled: true },
      extraRules: {
        configMaps: ['my-rules', 'team-rules'],
        initContainers: [{ name: 'fetch-rules', image: 'registry.example.com/rules:1', command: ['sh', '-c', 'cp /bundles/*.wasm /rules/'] }],
      },
      priorityClassName: 'system-node-critical',
      hostNetwork: true,
      podAnnotations: { 'example.com/team': 'security' },
      podLabels: { team: 'security' },
      imagePullSecrets: [{ name: 'regcred' }],
      extraVolumes: [{ name: 'scratch', emptyDir: {} }],
      extraVolumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
    }],
    set: ['image.repository=registry.example.com/tracee-ts', 'image.tag=1.2.3'],
  },
  webhook: {
    values: [{ webhook: { enabled: true, url: 'https://hooks.example.com/tracee', templateContent: '{{ toJson .SigMetadata }}\n', contentType: 'application/json' } }],
  },
  // least privilege: no API access, no metrics endpoint, no enrichment, no runtime socket
  minimal: {
    set: ['rbac.create=false', 'serviceAccount.automountServiceAccountToken=false', 'metrics.enabled=false',
      'containers.enrichment=false', 'containers.sockets.containerd.enabled=false', 'tracee.output=table'],
  },
};

const rendered = new Map<string, ReturnType<typeof renderChart>>();
const objects = new Map<string, Manifest[]>();

function render(name: string): Manifest[] {
  if (!objects.has(name)) {
    const r = renderChart(CHART, { releaseName: RELEASE, namespace: NS, strict: true, ...VALUE_SETS[name] });
    rendered.set(name, r);
    objects.set(name, manifests(r));
  }
  return objects.get(name)!;
}

const one = (set: string, kind: string): Record<string, any> => {
  const found = render(set).filter((m) => m.doc.kind === kind);
  assert.equal(found.length, 1, `${set}: expected one ${kind}, got ${found.length}`);
  return found[0].doc;
};
const kinds = (set: string) => render(set).map((m) => m.doc.kind).sort();
const ds = (set: string) => one(set, 'DaemonSet');
const podSpec = (set: string) => ds(set).spec.template.spec;
const tracee = (set: string) => podSpec(set).containers.find((c: any) => c.name === 'tracee');
const envOf = (set: string) => Object.fromEntries(tracee(set).env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
const argsOf = (set: string) => String(one(set, 'ConfigMap').data['tracee.args']).split('\n').filter((l) => l && !l.startsWith('#'));
const hostPaths = (set: string) => Object.fromEntries(podSpec(set).volumes.filter((v: any) => v.hostPath).map((v: any) => [v.name, v.hostPath]));
const mountOf = (set: string, volume: string) => tracee(set).volumeMounts.find((m: any) => m.name === volume);

/** The module and type of a kind in kubernetes-models (core group "v1" → "kubernetes-models/v1/Kind"). */
function modelOf(doc: Record<string, any>): { module: string; type: string } {
  if (doc.apiVersion === 'monitoring.coreos.com/v1') return { module: `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${doc.kind}`, type: `I${doc.kind}` };
  return { module: `kubernetes-models/${doc.apiVersion}/${doc.kind}`, type: `I${doc.kind}` };
}

before(() => {
  for (const name of Object.keys(VALUE_SETS)) render(name);
});

test('every value set renders, every document is YAML with apiVersion, kind and name', () => {
  for (const name of Object.keys(VALUE_SETS)) {
    for (const { source, doc } of render(name)) {
      assert.ok(doc.apiVersion && doc.kind && doc.metadata?.name, `${name}: ${source}: missing apiVersion/kind/metadata.name`);
      assert.equal(doc.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm', `${name}: ${source}: labels`);
      const clusterScoped = ['ClusterRole', 'ClusterRoleBinding'].includes(doc.kind);
      assert.equal(doc.metadata.namespace, clusterScoped ? undefined : NS, `${name}: ${doc.kind} namespace`);
    }
  }
  assert.deepEqual(kinds('defaults'), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet', 'Service', 'ServiceAccount']);
  assert.deepEqual(kinds('full'), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet', 'Service', 'ServiceAccount', 'ServiceMonitor']);
  assert.deepEqual(kinds('minimal'), ['ConfigMap', 'DaemonSet', 'ServiceAccount']);
  assert.match(rendered.get('defaults')!.notes, /kubectl -n tracee-system logs/);
});

test('every object is valid against the Kubernetes API schema of its kind', async () => {
  for (const name of Object.keys(VALUE_SETS)) {
    for (const { source, doc } of render(name)) {
      const { module } = modelOf(doc);
      const mod = await import(module).catch((err) => assert.fail(`${name}: ${source}: no schema for ${doc.apiVersion} ${doc.kind} (${module}): ${err.message}`));
      const Model = mod[doc.kind] ?? mod.default;
      assert.equal(typeof Model, 'function', `${module} exports no ${doc.kind}`);
      try {
        new Model(structuredClone(doc)).validate();
      } catch (err) {
        assert.fail(`${name}: ${source}: ${doc.kind} ${doc.metadata.name} is not valid: ${(err as Error).message}`);
      }
    }
  }
});

/**
 * Fields the API does not define, for objects labelled by `where`: one TypeScript
 * program assigns each object, as an object literal, to its kind's type from
 * kubernetes-models; an excess property is an error naming the field.
 */
function unknownFields(objs: Array<{ where: string; doc: Record<string, any> }>): string[] {
  const aliases = new Map<string, string>();
  const lines = objs.map(({ doc }, i) => {
    const { module, type } = modelOf(doc);
    const key = `${module}#${type}`;
    if (!aliases.has(key)) aliases.set(key, `T${aliases.size}`);
    return `export const o${i}: ${aliases.get(key)} = ${JSON.stringify(doc)};`;
  });
  const head = [...aliases].map(([key, alias]) => { const [m, t] = key.split('#'); return `import type { ${t} as ${alias} } from '${m}';`; });
  const text = [...head, ...lines].join('\n');
  const file = join(HERE, '__helm_strict_check__.ts');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, text, lang) : getSourceFile(f, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f: string) => f === file || fileExists(f);
  return ts.getPreEmitDiagnostics(ts.createProgram([file], options, host)).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const obj = line >= head.length ? objs[line - head.length].where : 'imports';
    return `${obj}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ').slice(0, 300)}`;
  });
}

test('no object has a field its kind does not define (strict field validation)', () => {
  const objs = Object.keys(VALUE_SETS).flatMap((name) => render(name).map(({ source, doc }) => ({ where: `${name}: ${source}: ${doc.kind}`, doc })));
  assert.deepEqual(unknownFields(objs), []);
});

test('the validators catch what they should: a misspelt field, a wrong type, a missing required field', async () => {
  const good = structuredClone(ds('defaults'));
  const misspelt = structuredClone(good);
  delete misspelt.spec.template.spec.hostPID;
  misspelt.spec.template.spec.hostPid = true;
  const problems = unknownFields([{ where: 'good', doc: good }, { where: 'misspelt', doc: misspelt }]);
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], /^misspelt: .*'"?hostPid"?' does not exist/);
  const { DaemonSet } = await import('kubernetes-models/apps/v1/DaemonSet');
  const wrongType = structuredClone(good);
  wrongType.spec.template.spec.hostPID = 'yes';
  assert.throws(() => new DaemonSet(wrongType).validate(), /hostPID must be boolean/);
  const noMountPath = structuredClone(good);
  delete noMountPath.spec.template.spec.containers[0].volumeMounts[0].mountPath;
  assert.throws(() => new DaemonSet(noMountPath).validate(), /must have required property '?mountPath/);
});

test('defaults: a privileged DaemonSet in the host PID namespace with only the host mounts it needs', () => {
  const spec = podSpec('defaults');
  const c = tracee('defaults');
  assert.equal(spec.hostPID, true);
  assert.equal(spec.hostNetwork, false);
  assert.equal(spec.hostIPC, undefined);
  assert.equal(c.securityContext.privileged, true);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(spec.containers.length, 1);
  assert.equal(spec.initContainers, undefined);
  assert.deepEqual(hostPaths('defaults'), {
    'os-release': { path: '/etc/os-release', type: 'File' },
    cgroup: { path: '/sys/fs/cgroup', type: 'Directory' },
    'socket-containerd': { path: '/run/containerd' },
  });
  assert.deepEqual(mountOf('defaults', 'os-release'), { name: 'os-release', mountPath: '/etc/os-release-host', readOnly: true });
  assert.deepEqual(mountOf('defaults', 'cgroup'), { name: 'cgroup', mountPath: '/sys/fs/cgroup', readOnly: true });
  // Tracee's discovery path for containerd's socket
  assert.equal(mountOf('defaults', 'socket-containerd').mountPath, '/var/run/containerd');
  assert.equal(mountOf('defaults', 'tmp').mountPath, '/tmp');
  assert.deepEqual(spec.tolerations, [{ operator: 'Exists' }]);
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.cpu && c.resources.limits.memory);
  assert.equal(c.image, 'localhost/tracee-ts:0.1.0');
  assert.deepEqual(ds('defaults').spec.selector.matchLabels, Object.fromEntries(Object.entries(ds('defaults').spec.template.metadata.labels).filter(([k]) => k in ds('defaults').spec.selector.matchLabels)));
  const env = envOf('defaults');
  assert.equal(env.CONTAINERS_ENRICHMENT, '1');
  assert.equal(env.LIBBPFGO_OSRELEASE_FILE, '/etc/os-release-host');
  assert.equal(env.TRACEE_ARGS_FILE, '/tracee-ts/config/tracee.args');
  assert.equal(env.TRACEE_EXTRA_RULES_DIRS, undefined);
  assert.equal(mountOf('defaults', 'config').mountPath, '/tracee-ts/config');
});

test('defaults: RBAC grants only get, list and watch on pods to the chart\'s service account', () => {
  const role = one('defaults', 'ClusterRole');
  assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
  for (const rule of role.rules) {
    assert.ok(!rule.verbs.includes('*') && !rule.resources.includes('*') && !rule.apiGroups.includes('*'), 'wildcard in RBAC');
    assert.ok(!rule.resources.includes('secrets'));
  }
  const binding = one('defaults', 'ClusterRoleBinding');
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
  const sa = one('defaults', 'ServiceAccount');
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: NS }]);
  assert.equal(podSpec('defaults').serviceAccountName, sa.metadata.name);
});

test('defaults: tracee writes JSON findings and serves metrics behind a Service; the config checksum rolls the pods', () => {
  assert.deepEqual(argsOf('defaults'), ['--output', 'json', '--metrics', '--metrics-addr', ':3366']);
  const svc = one('defaults', 'Service');
  assert.deepEqual(svc.spec.ports, [{ name: 'metrics', port: 3366, targetPort: 'metrics', protocol: 'TCP' }]);
  for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(ds('defaults').spec.template.metadata.labels[k], v);
  assert.deepEqual(tracee('defaults').ports, [{ name: 'metrics', containerPort: 3366, protocol: 'TCP' }]);
  assert.equal(tracee('defaults').livenessProbe.httpGet.path, '/healthz');
  const annotations = ds('defaults').spec.template.metadata.annotations;
  assert.equal(annotations['prometheus.io/scrape'], 'true');
  assert.equal(annotations['prometheus.io/port'], '3366');
  assert.match(annotations['checksum/config'], /^[0-9a-f]{64}$/);
  assert.notEqual(annotations['checksum/config'], ds('webhook').spec.template.metadata.annotations['checksum/config']);
});

test('full: every runtime socket, debugfs, falcosidekick, policies, extra rules and a ServiceMonitor', () => {
  assert.deepEqual(hostPaths('full'), {
    'os-release': { path: '/etc/os-release', type: 'File' },
    cgroup: { path: '/sys/fs/cgroup', type: 'Directory' },
    debugfs: { path: '/sys/kernel/debug', type: 'Directory' },
    'socket-containerd': { path: '/run/containerd' },
    'socket-crio': { path: '/run/crio' },
    'socket-docker': { path: '/var/run/docker.sock', type: 'Socket' },
    'socket-podman': { path: '/run/podman' },
  });
  assert.equal(mountOf('full', 'socket-docker').mountPath, '/var/run/docker.sock');
  assert.equal(mountOf('full', 'socket-crio').mountPath, '/var/run/crio');
  assert.equal(mountOf('full', 'socket-podman').mountPath, '/var/run/podman');
  assert.equal(podSpec('full').hostNetwork, true);
  assert.equal(podSpec('full').dnsPolicy, 'ClusterFirstWithHostNet');
  assert.equal(tracee('full').image, 'registry.example.com/tracee-ts:1.2.3');

  const args = argsOf('full');
  const after = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(after('--webhook'), 'http://falcosidekick.falcosidekick.svc.cluster.local:2801/');
  assert.equal(after('--webhook-template'), '/tracee-ts/templates/falcosidekick.tmpl');
  assert.ok(existsSync(join(ROOT, 'templates', 'falcosidekick.tmpl')), 'the image has no templates/falcosidekick.tmpl');
  assert.equal(after('--webhook-content-type'), 'application/json');
  assert.equal(after('--policy'), '/tracee-ts/config/policies');
  assert.deepEqual(args.filter((_, i) => args[i - 1] === '--rules'), ['TRC-102', 'fileless_execution']);
  assert.equal(after('--buffers'), '8192');
  assert.deepEqual(args.slice(-2), ['--scope', 'not-container']);

  // policies: one file each, Tracee's Policy kind, projected under /tracee-ts/config/policies
  const cm = one('full', 'ConfigMap');
  const policy = parseYaml(cm.data['policy.signatures.yaml']);
  assert.equal(policy.kind, 'Policy');
  assert.deepEqual(policy.spec.rules, [{ event: 'anti_debugging' }, { event: 'fileless_execution' }]);
  assert.equal(parseYaml(cm.data['policy.as-text.yaml']).metadata.name, 'as-text');
  const items = podSpec('full').volumes.find((v: any) => v.name === 'config').configMap.items;
  assert.deepEqual(items.map((i: any) => i.path).sort(), ['policies/as-text.yaml', 'policies/signatures.yaml', 'tracee.args']);

  // extra rules: ConfigMaps and an init container's emptyDir, read-only, merged by the entrypoint
  assert.equal(envOf('full').TRACEE_EXTRA_RULES_DIRS, '/tracee-ts/rules.d/my-rules:/tracee-ts/rules.d/team-rules:/tracee-ts/rules.d/init');
  assert.deepEqual(mountOf('full', 'extra-rules-my-rules'), { name: 'extra-rules-my-rules', mountPath: '/tracee-ts/rules.d/my-rules', readOnly: true });
  assert.deepEqual(podSpec('full').volumes.find((v: any) => v.name === 'extra-rules-team-rules').configMap, { name: 'team-rules' });
  const [init] = podSpec('full').initContainers;
  assert.equal(init.name, 'fetch-rules');
  assert.deepEqual(init.volumeMounts, [{ name: 'extra-rules-init', mountPath: '/rules' }]);
  assert.equal(init.securityContext, undefined, 'the chart must not make user init containers privileged');
  assert.equal(mountOf('full', 'extra-rules-init').readOnly, true);

  const sm = one('full', 'ServiceMonitor');
  const svc = one('full', 'Service');
  for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata.labels[k], v);
  assert.deepEqual(sm.spec.endpoints.map((e: any) => [e.port, e.path]), [['metrics', '/metrics']]);
  assert.equal(sm.metadata.labels.release, 'kube-prometheus-stack');
  assert.equal(podSpec('full').priorityClassName, 'system-node-critical');
  assert.equal(ds('full').spec.template.metadata.labels.team, 'security');
});

test('webhook: a template shipped in the ConfigMap', () => {
  const args = argsOf('webhook');
  assert.equal(args[args.indexOf('--webhook') + 1], 'https://hooks.example.com/tracee');
  assert.equal(args[args.indexOf('--webhook-template') + 1], '/tracee-ts/config/webhook.tmpl');
  assert.equal(one('webhook', 'ConfigMap').data['webhook.tmpl'], '{{ toJson .SigMetadata }}\n');
  const items = podSpec('webhook').volumes.find((v: any) => v.name === 'config').configMap.items;
  assert.ok(items.some((i: any) => i.key === 'webhook.tmpl' && i.path === 'webhook.tmpl'));
});

test('minimal: no API access, no metrics endpoint, no enrichment and no runtime socket', () => {
  assert.equal(one('minimal', 'ServiceAccount').automountServiceAccountToken, false);
  assert.equal(podSpec('minimal').automountServiceAccountToken, false);
  assert.equal(envOf('minimal').CONTAINERS_ENRICHMENT, '0');
  assert.deepEqual(Object.keys(hostPaths('minimal')).sort(), ['cgroup', 'os-release']);
  assert.equal(tracee('minimal').ports, undefined);
  assert.equal(tracee('minimal').livenessProbe, undefined);
  assert.equal(ds('minimal').spec.template.metadata.annotations['prometheus.io/scrape'], undefined);
  assert.deepEqual(argsOf('minimal'), ['--output', 'table']);
  // still what capture needs
  assert.equal(podSpec('minimal').hostPID, true);
  assert.equal(tracee('minimal').securityContext.privileged, true);
});

test('contradictory or incomplete values fail rendering with the value to fix', () => {
  const bad = (values: Record<string, unknown>, message: RegExp) =>
    assert.throws(() => renderChart(CHART, { values: [values], strict: true }), (err: Error) => err instanceof ChartRenderError && message.test(err.message));
  bad({ webhook: { enabled: true } }, /webhook\.url is required when webhook\.enabled/);
  bad({ webhook: { enabled: true, url: 'http://x' }, falcosidekick: { enabled: true } }, /enable one of them/);
  bad({ metrics: { serviceMonitor: { enabled: true }, service: { enabled: false } } }, /serviceMonitor\.enabled needs metrics\.service\.enabled/);
  bad({ tracee: { output: '' } }, /tracee\.output is required/);
});

test('render.ts: --set types values as Helm does and null deletes a key', () => {
  const v = applySet(applySet(applySet({ a: { b: 1, c: 2 } }, 'a.b=false'), 'a.list={x,2}'), 'a.c=null');
  assert.deepEqual(v, { a: { b: false, list: ['x', 2] } });
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'deploy/helm/render.ts'), CHART, '--set', 'metrics.enabled=false', '--strict'], { cwd: ROOT, encoding: 'utf8' });
  assert.match(out, /^---\n# Source: tracee-ts\/templates\/configmap\.yaml\n/);
  assert.doesNotMatch(out, /kind: Service\n/);
});

test('every flag the chart writes is one the tracee CLI accepts (tracee --help)', () => {
  const help = execFileSync(process.execPath, [join(ROOT, 'host/cli/bin/tracee.js'), '--help'], { cwd: ROOT, encoding: 'utf8' });
  const known = new Set([...help.matchAll(/(?:^|[\s,])(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]));
  const written = new Set<string>();
  for (const set of ['defaults', 'full', 'webhook', 'minimal']) for (const a of argsOf(set)) if (a.startsWith('--')) written.add(a);
  const missing = [...written].filter((f) => !known.has(f)).sort();
  assert.deepEqual(missing, [], `the chart writes flags tracee does not accept yet: ${missing.join(' ')}`);
});

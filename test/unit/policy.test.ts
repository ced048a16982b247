/**
 * Policy parsing: Tracee's documented policies and flags parse into the
 * model; invalid ones fail with an error naming the file (or flag), the
 * field and what is allowed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventNames, type SignatureEvent } from '../../host/policy/event-names.ts';
import { parsePolicyText, readPolicyFiles } from '../../host/policy/policy-file.ts';
import { loadPolicies } from '../../host/policy/load.ts';
import { parseScopeExpression } from '../../host/policy/scope.ts';
import { PolicyError } from '../../host/policy/policy-error.ts';
import type { Policy } from '../../host/policy/model.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'policies');

/** Tracee's signature events (examples/policies/yaml/k8s/signature_events.yaml), as loaded signatures. */
const TRACEE_SIGNATURE_EVENTS = ['stdio_over_socket', 'k8s_api_connection', 'aslr_inspection', 'proc_mem_code_injection',
  'docker_abuse', 'scheduled_task_mod', 'ld_preload', 'cgroup_notify_on_release', 'default_loader_mod', 'sudoers_modification',
  'sched_debug_recon', 'system_request_key_mod', 'cgroup_release_agent', 'rcd_modification', 'core_pattern_modification',
  'proc_kcore_read', 'proc_mem_access', 'hidden_file_created', 'anti_debugging', 'ptrace_code_injection', 'process_vm_write_inject',
  'disk_mount', 'dynamic_code_loading', 'fileless_execution', 'illegitimate_shell', 'kernel_module_loading', 'k8s_cert_theft',
  'proc_fops_hooking', 'syscall_hooking', 'dropped_executable'];
const SIGNATURES: SignatureEvent[] = TRACEE_SIGNATURE_EVENTS.map((eventName, i) => ({
  id: `TRC-${100 + i}`, eventName, selectedEvents: eventName === 'anti_debugging' ? ['ptrace'] : ['sched_process_exec'],
}));
SIGNATURES.find((s) => s.eventName === 'anti_debugging')!.id = 'TRC-102';
const names = new EventNames(SIGNATURES);

const k8s = (spec: string, name = 'test-policy') =>
  `apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nmetadata:\n  name: ${name}\n  annotations:\n    description: test\nspec:\n${spec}`;
const parse = (text: string, file = 'p.yaml') => parsePolicyText(text, file, names);
const flags = (scope: string[], events: string[]) => loadPolicies({ policyPaths: [], scope, events }, names)[0];

/** Asserts that `fn` throws a PolicyError whose message matches every pattern. */
function rejects(fn: () => unknown, ...patterns: RegExp[]): PolicyError {
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof PolicyError, `expected a PolicyError, got ${error === undefined ? 'no error' : String(error)}`);
  assert.equal(error.code, 'TRC_ERR_POLICY');
  for (const p of patterns) assert.match(error.message, p);
  return error;
}

test('Tracee example openat-data-pathname parses into one global rule with a data filter', () => {
  const [p] = readPolicyFiles([join(FIXTURES, 'valid', 'openat-data-pathname.yaml')], names);
  assert.equal(p.name, 'openat-data-pathname');
  assert.equal(p.description, 'traces openat under /tmp/*');
  assert.deepEqual(p.scope, []);
  assert.deepEqual(p.rules, [{ event: 'openat', filters: [{ kind: 'data', field: 'pathname', operator: '=', values: ['/tmp*'] }] }]);
  assert.match(p.origin, /openat-data-pathname\.yaml$/);
});

test('Tracee example signature-events selects all 30 signature events; the kernel variant scopes to new containers', () => {
  const text = readFileSync(join(FIXTURES, 'valid', 'signature-events.yaml'), 'utf8');
  const [p] = parse(text);
  assert.deepEqual(p.rules.map((r) => r.event), TRACEE_SIGNATURE_EVENTS);
  const [kernel] = parse(text.replace('- global', '- container=new'));
  assert.deepEqual(kernel.scope, [{ field: 'container', operator: '=', values: ['new'] }]);
});

test('a directory loads its .yaml and .yml files in name order (Tracee docs overview policy, flat legacy form)', () => {
  const policies = readPolicyFiles([join(FIXTURES, 'valid')], names);
  assert.deepEqual(policies.map((p) => p.name), ['flat-legacy', 'openat-data-pathname', 'overview-policy', 'signature-events']);
  const overview = policies.find((p) => p.name === 'overview-policy')!;
  assert.deepEqual(overview.rules, [
    { event: 'dropped_executable', filters: [] },
    { event: 'security_file_open', filters: [{ kind: 'data', field: 'pathname', operator: '=', values: ['/tmp/*'] }] },
    { event: 'sched_process_exec', filters: [{ kind: 'scope', field: 'userId', operator: '=', values: ['0'] }] },
    { event: 'close', filters: [{ kind: 'retval', field: '', operator: '!=', values: ['0'] }] },
  ]);
  const flat = policies.find((p) => p.name === 'flat-legacy')!;
  assert.equal(flat.description, 'ptrace and memfd_create from non-root users, with children');
  assert.deepEqual(flat.defaultActions, ['log']);
  assert.deepEqual(flat.scope, [
    { field: 'uid', operator: '>', values: ['0'] },
    { field: 'comm', operator: '=', values: ['bash', 'sh'] },
    { field: 'follow', operator: '=', values: [] },
  ]);
  assert.deepEqual(flat.rules[0], { event: 'ptrace', filters: [{ kind: 'data', field: 'request', operator: '=', values: ['0'] }] });
});

test('the CLI usage example (signatures plus openat by cat under /tmp) parses', () => {
  const [p] = parse(k8s('  scope:\n    - global\n  rules:\n' + TRACEE_SIGNATURE_EVENTS.map((e) => `    - event: ${e}\n`).join('')
    + '    - event: openat\n      filters:\n        - comm=cat\n        - data.pathname=/tmp*\n', 'signatures'));
  assert.equal(p.rules.length, 31);
  assert.deepEqual(p.rules[30].filters, [
    { kind: 'scope', field: 'processName', operator: '=', values: ['cat'] },
    { kind: 'data', field: 'pathname', operator: '=', values: ['/tmp*'] },
  ]);
});

test('every scope of Tracee\'s scopes.md parses, with its aliases', () => {
  const where = { origin: 'test', field: '' };
  const cases: Array<[string, unknown]> = [
    ['global', undefined],
    ['uid=0', { field: 'uid', operator: '=', values: ['0'] }],
    ['pid=1000', { field: 'pid', operator: '=', values: ['1000'] }],
    ['mntns=4026531840', { field: 'mntns', operator: '=', values: ['4026531840'] }],
    ['pidns=4026531836', { field: 'pidns', operator: '=', values: ['4026531836'] }],
    ['uts=ab356bc4dd554', { field: 'uts', operator: '=', values: ['ab356bc4dd554'] }],
    ['comm=uname', { field: 'comm', operator: '=', values: ['uname'] }],
    ['container', { field: 'container', operator: '=', values: [] }],
    ['not-container', { field: 'not-container', operator: '=', values: [] }],
    ['!container', { field: 'not-container', operator: '=', values: [] }],
    ['tree=1000', { field: 'tree', operator: '=', values: ['1000'] }],
    ['executable=/usr/bin/dig', { field: 'executable', operator: '=', values: ['/usr/bin/dig'] }],
    ['exec=/usr/bin/dig', { field: 'executable', operator: '=', values: ['/usr/bin/dig'] }],
    ['binary=host:/usr/bin/ls', { field: 'executable', operator: '=', values: ['host:/usr/bin/ls'] }],
    ['bin=4026532448:/usr/bin/ls', { field: 'executable', operator: '=', values: ['4026532448:/usr/bin/ls'] }],
    ['follow', { field: 'follow', operator: '=', values: [] }],
    ['pid=new', { field: 'pid', operator: '=', values: ['new'] }],
    ['p=510,1709', { field: 'pid', operator: '=', values: ['510', '1709'] }],
    ['c', { field: 'container', operator: '=', values: [] }],
    ['container=new', { field: 'container', operator: '=', values: ['new'] }],
    ['container=started', { field: 'container', operator: '=', values: ['started'] }],
    ['container=ab356bc4dd554', { field: 'container', operator: '=', values: ['ab356bc4dd554'] }],
    ['uid>0', { field: 'uid', operator: '>', values: ['0'] }],
    ['u>=1000', { field: 'uid', operator: '>=', values: ['1000'] }],
    ['pid<1000', { field: 'pid', operator: '<', values: ['1000'] }],
    ['pidns!=4026531836', { field: 'pidns', operator: '!=', values: ['4026531836'] }],
    ['tree!=5023', { field: 'tree', operator: '!=', values: ['5023'] }],
    ['uts!=ab356bc4dd554', { field: 'uts', operator: '!=', values: ['ab356bc4dd554'] }],
    ['comm=ba*', { field: 'comm', operator: '=', values: ['ba*'] }],
    ['comm = bash', { field: 'comm', operator: '=', values: ['bash'] }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseScopeExpression(text, where), want, text);
});

test('--scope and --events form one policy named "" (Tracee\'s CLI policy); = on the same field merges', () => {
  const p = flags(['comm=bash', 'follow', 'pid=510', 'pid=1709', 'uid>0', 'uid!=1000'], ['openat.data.pathname=/tmp*,/etc/shadow', 'execve']);
  assert.equal(p.name, '');
  assert.equal(p.origin, 'command line');
  assert.deepEqual(p.scope, [
    { field: 'comm', operator: '=', values: ['bash'] },
    { field: 'follow', operator: '=', values: [] },
    { field: 'pid', operator: '=', values: ['510', '1709'] },
    { field: 'uid', operator: '>', values: ['0'] },
    { field: 'uid', operator: '!=', values: ['1000'] },
  ]);
  assert.deepEqual(p.rules, [
    { event: 'openat', filters: [{ kind: 'data', field: 'pathname', operator: '=', values: ['/tmp*', '/etc/shadow'] }] },
    { event: 'execve', filters: [] },
  ]);
});

test('--events examples of Tracee\'s events.1.md: names, prefixes, sets, exclusions and filters', () => {
  const events = (...e: string[]) => flags([], e).rules;
  assert.deepEqual(events('execve,open').map((r) => r.event), ['execve', 'open']);
  assert.deepEqual(events('open*').map((r) => r.event).sort(), ['open', 'open_by_handle_at', 'open_tree', 'openat', 'openat2'].sort());
  const fs = events('fs').map((r) => r.event);
  assert.ok(fs.includes('openat') && fs.includes('security_file_open') && fs.length > 100, 'fs set');
  const fsNoOpen = events('fs', '-open,-openat').map((r) => r.event);
  assert.equal(fsNoOpen.length, fs.length - 2);
  assert.ok(!fsNoOpen.includes('open') && !fsNoOpen.includes('openat'));
  assert.deepEqual(events('tag=net').map((r) => r.event), events('net').map((r) => r.event));
  assert.deepEqual(events('close.data.fd=5'), [{ event: 'close', filters: [{ kind: 'data', field: 'fd', operator: '=', values: ['5'] }] }]);
  assert.deepEqual(events("openat.data.pathname=*shadow")[0].filters[0].values, ['*shadow']);
  assert.deepEqual(events("openat.data.pathname=*pass*")[0].filters[0].values, ['*pass*']);
  assert.deepEqual(events('openat.data.pathname!=/tmp/1,/bin/ls')[0].filters, [{ kind: 'data', field: 'pathname', operator: '!=', values: ['/tmp/1', '/bin/ls'] }]);
  assert.deepEqual(events('openat.scope.processName=ls')[0].filters, [{ kind: 'scope', field: 'processName', operator: '=', values: ['ls'] }]);
  assert.deepEqual(events('security_file_open.scope.container')[0].filters, [{ kind: 'scope', field: 'container', operator: '=', values: [] }]);
  assert.deepEqual(events('openat.context.container')[0].filters, [{ kind: 'scope', field: 'container', operator: '=', values: [] }]);
  assert.deepEqual(events('openat.args.pathname=/etc/shadow', 'openat.retval<0')[0].filters, [
    { kind: 'data', field: 'pathname', operator: '=', values: ['/etc/shadow'] },
    { kind: 'retval', field: '', operator: '<', values: ['0'] },
  ]);
  assert.deepEqual(events('ptrace.data.request=PTRACE_TRACEME,PTRACE_ATTACH')[0].filters[0].values, ['0', '16']);
  assert.deepEqual(events('security_file_open.data.flags=O_WRONLY|O_CREAT')[0].filters[0].values, ['65']);
  assert.deepEqual(events('TRC-102').map((r) => r.event), ['anti_debugging']);
  assert.equal(events('signatures').length, 30);
});

test('without --events: the signature events only; with --scope only: Tracee\'s default set', () => {
  assert.deepEqual(flags([], []).rules.map((r) => r.event), TRACEE_SIGNATURE_EVENTS);
  const scoped = flags(['comm=bash'], []).rules.map((r) => r.event);
  assert.ok(scoped.includes('sched_process_exec') && scoped.includes('security_file_open') && scoped.includes('anti_debugging'));
  assert.ok(!scoped.includes('openat'));
  assert.equal(flags([], ['-anti_debugging']).rules.length, 29);
});

test('rule filters of Tracee\'s rules.md parse under their event JSON names', () => {
  const rule = (f: string) => parse(k8s(`  scope:\n    - global\n  rules:\n    - event: sched_process_exec\n      filters:\n        - ${f}\n`))[0].rules[0].filters[0];
  const cases: Array<[string, string, string, string[]]> = [
    ['pid=1000', 'processId', '=', ['1000']], ['p=1000', 'processId', '=', ['1000']], ['processId=1000', 'processId', '=', ['1000']],
    ['tid=13819', 'threadId', '=', ['13819']], ['ppid=1000', 'parentProcessId', '=', ['1000']],
    ['hostTid=1000', 'hostThreadId', '=', ['1000']], ['hostPid=1000', 'hostProcessId', '=', ['1000']],
    ['hostParentProcessId=1', 'hostParentProcessId', '=', ['1']], ['uid=0', 'userId', '=', ['0']], ['userId>=1000', 'userId', '>=', ['1000']],
    ['mntns=4026531840', 'mountNamespace', '=', ['4026531840']], ['pidns=4026531836', 'pidNamespace', '=', ['4026531836']],
    ['comm=uname', 'processName', '=', ['uname']], ['hostName=hostname', 'hostName', '=', ['hostname']], ['cgroupId=5247', 'cgroupId', '=', ['5247']],
    ['container=66c2778945e29dfd36532d63c38c2ce4ed1', 'containerId', '=', ['66c2778945e29dfd36532d63c38c2ce4ed1*']],
    ['containerId=66c2778945e29dfd36532d63c38c2ce4ed1', 'containerId', '=', ['66c2778945e29dfd36532d63c38c2ce4ed1']],
    ['containerImage=ubuntu:latest', 'containerImage', '=', ['ubuntu:latest']], ['containerName=test', 'containerName', '=', ['test']],
    ['podName=daemonset/test', 'podName', '=', ['daemonset/test']], ['podNamespace=production', 'podNamespace', '=', ['production']],
    ['podUid=66c2778945e29dfd36532d63c38c2ce4ed16a002c44cb254b8e', 'podUid', '=', ['66c2778945e29dfd36532d63c38c2ce4ed16a002c44cb254b8e']],
    ['syscall=execve', 'syscall', '=', ['execve']], ['container=started', 'container', '=', ['started']],
  ];
  for (const [text, field, operator, values] of cases) assert.deepEqual(rule(text), { kind: 'scope', field, operator, values }, text);
  assert.deepEqual(rule('host'), { kind: 'scope', field: 'host', operator: '=', values: [] });
  assert.deepEqual(rule('data.argv=*nc*'), { kind: 'data', field: 'argv', operator: '=', values: ['*nc*'] });
  assert.deepEqual(rule('data.invoked_from_kernel=false'), { kind: 'data', field: 'invoked_from_kernel', operator: '=', values: ['false'] });
  assert.deepEqual(rule('retval>=-1'), { kind: 'retval', field: '', operator: '>=', values: ['-1'] });
});

test('signature events take any data field (their data is dynamic) and signature IDs name them', () => {
  const [p] = parse(k8s('  scope:\n    - global\n  rules:\n    - event: TRC-102\n      filters:\n        - data.anything=x\n'));
  assert.deepEqual(p.rules, [{ event: 'anti_debugging', filters: [{ kind: 'data', field: 'anything', operator: '=', values: ['x'] }] }]);
});

test('several --- documents in one file are several policies', () => {
  const text = k8s('  scope: [global]\n  rules: [{event: openat}]\n', 'one') + '\n---\n' + k8s('  scope: [global]\n  rules: [{event: close}]\n', 'two') + '\n---\n';
  assert.deepEqual(parse(text).map((p: Policy) => p.name), ['one', 'two']);
});

// ---- invalid policies: each error names the file, the field and what is allowed ----

test('invalid YAML names the file, line and column', () => {
  rejects(() => parse('apiVersion: tracee.aquasec.com/v1beta1\nkind: [Policy\n', 'broken.yaml'), /^policy broken\.yaml: line \d+, column \d+: invalid YAML: /);
  rejects(() => parse('a: 1\na: 2\n', 'dup.yaml'), /^policy dup\.yaml: line 2, column 1: invalid YAML: Map keys must be unique/);
  rejects(() => parse('\tfoo: 1\n', 'tab.yaml'), /tab\.yaml: .*invalid YAML/);
});

test('wrong apiVersion or kind names the field and the allowed value', () => {
  rejects(() => parse(k8s('  scope: [global]\n  rules: [{event: openat}]\n').replace('tracee.aquasec.com/v1beta1', 'aquasecurity.github.io/v1beta1'), 'old.yaml'),
    /^policy old\.yaml: apiVersion \(line 1\): "aquasecurity\.github\.io\/v1beta1" is not supported \(allowed: tracee\.aquasec\.com\/v1beta1\)/);
  rejects(() => parse(k8s('  scope: [global]\n  rules: [{event: openat}]\n').replace('kind: Policy', 'kind: TraceePolicy')),
    /kind \(line 2\): "TraceePolicy" is not supported \(allowed: Policy\)/);
  rejects(() => parse('kind: Policy\nmetadata: {name: x}\nspec: {scope: [global], rules: [{event: openat}]}\n'), /apiVersion: null is not supported/);
});

test('missing, empty or mistyped sections are named', () => {
  const cases: Array<[string, RegExp]> = [
    [k8s('  rules: [{event: openat}]\n'), /spec\.scope: missing \(expected a list of scope entries/],
    [k8s('  scope: []\n  rules: [{event: openat}]\n'), /spec\.scope \(line 8\): cannot be empty/],
    [k8s('  scope: [global]\n'), /spec\.rules: missing/],
    [k8s('  scope: [global]\n  rules: []\n'), /spec\.rules \(line 9\): cannot be empty/],
    [k8s('  scope: global\n  rules: [{event: openat}]\n'), /spec\.scope \(line 8\): expected a list of scope entries .*, got string "global"/],
    [k8s('  scope: [global]\n  rules:\n    event: openat\n'), /spec\.rules \(line 10\): expected a list of rules, each \{event, filters, actions\}, got a mapping/],
    [k8s('  scope: [global]\n  rules: [{filters: [retval=0]}]\n'), /spec\.rules\[0\]\.event: missing \(expected a string\)/],
    [k8s('  scope: [global]\n  rules: [{event: openat, filter: [retval=0]}]\n'), /spec\.rules\[0\]\.filter \(line 9\): unknown field "filter" \(did you mean filters\?\) \(allowed: event, filters, actions\)/],
    [k8s('  scope: [global]\n  rules: [{event: openat}]\n  extra: 1\n'), /spec\.extra \(line 10\): unknown field "extra" \(allowed: scope, defaultActions, rules\)/],
    [k8s('  scope: [1000]\n  rules: [{event: openat}]\n'), /spec\.scope\[0\] \(line 8\): expected a string, got number 1000/],
    ['apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nspec: {scope: [global], rules: [{event: openat}]}\n', /metadata: missing \(expected a mapping\)/],
    [k8s('  scope: [global]\n  rules: [{event: openat}]\n', 'Bad_Name'), /metadata\.name \(line 4\): "Bad_Name" is not a valid name/],
    ['just a string\n', /document: expected a mapping, got string/],
    ['foo: bar\n', /not a policy: expected apiVersion: tracee\.aquasec\.com\/v1beta1/],
    ['# nothing\n', /no policy in the file/],
  ];
  for (const [text, pattern] of cases) rejects(() => parse(text, 'x.yaml'), /^policy x\.yaml: /, pattern);
});

test('unknown events suggest near names; sets and duplicates are explained', () => {
  rejects(() => readPolicyFiles([join(FIXTURES, 'invalid', 'unknown-event.yaml')], names),
    /unknown-event\.yaml: spec\.rules\[0\]\.event \(line 11\): unknown event "security_file_opn" \(did you mean security_file_open\?\)/);
  rejects(() => parse(k8s('  scope: [global]\n  rules: [{event: fs}]\n')), /unknown event "fs": "fs" is a set of events; a rule names one event/);
  rejects(() => parse(k8s('  scope: [global]\n  rules: [{event: openat}, {event: close}, {event: openat}]\n')),
    /spec\.rules\[2\]\.event \(line 9\): event openat is already the subject of rules\[0\]/);
  rejects(() => parse(k8s('  scope: [global]\n  rules: [{event: ""}]\n')), /spec\.rules\[0\]\.event \(line 9\): cannot be empty/);
});

test('scope errors: unknown fields, bad operators, non-numeric ids, global not alone', () => {
  const scope = (s: string) => () => parse(k8s(`  scope:\n    - ${s}\n  rules: [{event: openat}]\n`), 's.yaml');
  rejects(() => readPolicyFiles([join(FIXTURES, 'invalid', 'bad-operator.yaml')], names),
    /bad-operator\.yaml: spec\.scope\[0\] \(line 9\): "comm>x": operator ">" is not allowed for comm \(allowed: =, !=\)/);
  rejects(scope('uid=root'), /spec\.scope\[0\] \(line 9\): "uid=root": "root" is not a number \(uid takes a user id\)/);
  rejects(scope('uid=-5'), /-5 is out of range for uid/);
  rejects(scope('uid=99999999999'), /out of range for uid/);
  rejects(scope('pidns>5'), /operator ">" is not allowed for pidns \(allowed: =, !=\)/);
  rejects(scope('tree<5'), /operator "<" is not allowed for tree/);
  rejects(scope('comn=bash'), /unknown scope "comn" \(did you mean comm\?\) \(allowed: global, uid \(u\)/);
  rejects(scope('follow=1'), /follow takes no operator or value/);
  rejects(scope('comm'), /comm needs = or != and a value/);
  rejects(scope('comm=*'), /"\*" matches everything/);
  rejects(scope('comm=*bash*'), /contains \(\*abc\*\) is not supported in a scope/);
  rejects(scope('comm=a_very_long_process_name'), /longer than 15 bytes/);
  rejects(scope('executable=bin/ls'), /"bin\/ls" is not an absolute path/);
  rejects(scope('container=xyz!'), /"xyz!" is not a container id/);
  rejects(scope('container=new,abc'), /"new" and "started" cannot be combined/);
  rejects(scope('pid=new,5'), /"new" stands alone/);
  rejects(scope('uid=1,,2'), /empty value in "1,,2"/);
  rejects(scope('uid='), /missing a value after "="/);
  rejects(scope('uid=>1'), /"=>" is not an operator/);
  rejects(scope('=1'), /missing the field before "="/);
  rejects(() => parse(k8s('  scope: [global, uid=0]\n  rules: [{event: openat}]\n'), 's.yaml'), /spec\.scope\[0\] \(line 8\): global must be the only scope entry/);
});

test('filter errors: unknown arguments and fields, operators, value types', () => {
  const filter = (event: string, f: string) => () => parse(k8s(`  scope: [global]\n  rules:\n    - event: ${event}\n      filters:\n        - "${f}"\n`), 'f.yaml');
  rejects(filter('openat', 'data.pathnam=/tmp'), /^policy f\.yaml: spec\.rules\[0\]\.filters\[0\] \(line 12\): "data\.pathnam=\/tmp": event openat has no argument "pathnam" \(did you mean pathname\?\) \(its arguments: dirfd, pathname, flags, mode\)/);
  rejects(filter('openat', 'data.=x'), /data\. needs an argument name/);
  rejects(filter('openat', 'data.pathname>x'), /operator ">" is not allowed for data\.pathname \(allowed: =, !=\)/);
  rejects(filter('openat', 'data.pathname'), /data filters need = or != and a value/);
  rejects(filter('openat', 'data.dirfd=abc'), /dirfd is an int32: "abc" is not a number/);
  rejects(filter('openat', 'data.dirfd=5*'), /wildcards apply to strings only/);
  rejects(filter('openat', 'data.flags=O_BOGUS'), /flags is an int32: "O_BOGUS" is not a number or a openFlags name/);
  rejects(filter('openat', 'data.mode=70000'), /70000 is out of range for mode \(uint16\)/);
  rejects(filter('security_socket_connect', 'data.remote_addr=1.2.3.4'), /remote_addr \(SockAddr\) cannot be filtered/);
  rejects(filter('magic_write', 'data.bytes=x'), /bytes \(\[\]byte\) cannot be filtered/);
  rejects(filter('sched_process_exec', 'data.invoked_from_kernel=yes'), /is a bool: use true or false/);
  rejects(filter('openat', 'data.pathname=**'), /"\*\*" matches everything/);
  rejects(filter('close', 'retval=abc'), /retval must be an integer, not "abc"/);
  rejects(filter('close', 'retval'), /retval needs an operator and an integer/);
  rejects(filter('openat', 'comm>x'), /"comm>x": operator ">" is not allowed for comm \(allowed: =, !=\)/);
  rejects(filter('openat', 'uid=root'), /uid takes a number, not "root"/);
  rejects(filter('openat', 'bogus=1'), /unknown filter field "bogus" \(allowed: data\.<argument>, retval, timestamp/);
  rejects(filter('openat', 'procesName=ls'), /unknown filter field "procesName" \(did you mean processName\?\)/);
  rejects(filter('openat', 'container=nothex!'), /container takes no value, =started, or a container id/);
  rejects(filter('openat', 'podSandbox=maybe'), /podSandbox takes true or false/);
});

test('actions: log and print; others are named', () => {
  assert.deepEqual(parse(k8s('  scope: [global]\n  defaultActions: [log]\n  rules: [{event: openat, actions: [print]}]\n'))[0].defaultActions, ['log']);
  rejects(() => parse(k8s('  scope: [global]\n  defaultActions: [webhook]\n  rules: [{event: openat}]\n')), /spec\.defaultActions\[0\] \(line 9\): unknown action "webhook" \(allowed: log, print\)/);
  rejects(() => parse(k8s('  scope: [global]\n  rules: [{event: openat, actions: [alert]}]\n')), /spec\.rules\[0\]\.actions\[0\] \(line 9\): unknown action "alert"/);
});

test('the flat form needs name and description; type must be policy', () => {
  rejects(() => parse('type: policy\ndescription: d\nscope: [global]\nrules: [{event: openat}]\n'), /^policy p\.yaml: name: missing/);
  rejects(() => parse('type: policy\nname: n\nscope: [global]\nrules: [{event: openat}]\n'), /description: missing/);
  rejects(() => parse('type: rule\nname: n\ndescription: d\nscope: [global]\nrules: [{event: openat}]\n'), /type \(line 1\): "rule" is not supported \(allowed: policy\)/);
});

test('across policies: at most 64, unique names, not mixed with --scope/--events, paths must exist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracee-policies-'));
  for (let i = 0; i < 65; i++) writeFileSync(join(dir, `p${String(i).padStart(2, '0')}.yaml`), k8s('  scope: [global]\n  rules: [{event: openat}]\n', `p${i}`));
  rejects(() => loadPolicies({ policyPaths: [dir], scope: [], events: [] }, names), /^policies: 65 policies given; at most 64 can be loaded \(.*p64\.yaml is number 65\)/);
  const dup = mkdtempSync(join(tmpdir(), 'tracee-policies-'));
  writeFileSync(join(dup, 'a.yaml'), k8s('  scope: [global]\n  rules: [{event: openat}]\n', 'same'));
  writeFileSync(join(dup, 'b.yml'), k8s('  scope: [global]\n  rules: [{event: close}]\n', 'same'));
  writeFileSync(join(dup, 'notes.txt'), 'not a policy');
  mkdirSync(join(dup, 'sub'));
  rejects(() => loadPolicies({ policyPaths: [dup], scope: [], events: [] }, names), /^policy .*b\.yml: name: policy name "same" is already used by policy .*a\.yaml; names must be unique/);
  rejects(() => loadPolicies({ policyPaths: [join(dup, 'a.yaml')], scope: ['comm=x'], events: [] }, names), /^--policy: cannot be combined with --scope or --events/);
  rejects(() => loadPolicies({ policyPaths: ['/nonexistent/policy.yaml'], scope: [], events: [] }, names), /^--policy \/nonexistent\/policy\.yaml: no such file or directory/);
  const empty = mkdtempSync(join(tmpdir(), 'tracee-policies-'));
  rejects(() => loadPolicies({ policyPaths: [empty], scope: [], events: [] }, names), /has no \.yaml or \.yml policy files/);
  assert.equal(loadPolicies({ policyPaths: [join(dup, 'a.yaml')], scope: [], events: [] }, names).length, 1);
});

test('flag errors name the flag and the expression', () => {
  rejects(() => flags(['comm>x'], []), /^--scope: "comm>x": operator ">" is not allowed for comm \(allowed: =, !=\)/);
  rejects(() => flags(['uid=root'], []), /^--scope: "uid=root": "root" is not a number/);
  rejects(() => flags(['bogus'], []), /^--scope: "bogus": unknown scope "bogus"/);
  rejects(() => flags([], ['opnat']), /^--events: "opnat": unknown event or set "opnat" \(did you mean openat, openat2\?\)/);
  rejects(() => flags([], ['-opnat']), /^--events: "-opnat": cannot exclude unknown event "opnat"/);
  rejects(() => flags([], ['openat.data.pathnme=/tmp']), /^--events: "openat\.data\.pathnme=\/tmp": event openat has no argument "pathnme" \(did you mean pathname\?\)/);
  rejects(() => flags([], ['openat.retval=x']), /^--events: "openat\.retval=x": retval must be an integer, not "x"/);
  rejects(() => flags([], ['openat.bogus.x=1']), /"bogus" is not a filter kind \(allowed: data, args, retval, scope, context\)/);
  rejects(() => flags([], ['openat.scope=1']), /scope needs a field/);
  rejects(() => flags([], ['openat.scope.comm>x']), /operator ">" is not allowed for comm/);
  rejects(() => flags([], ['fs.data.pathname=/x']), /unknown event "fs"/);
  rejects(() => flags([], ['zzz*']), /no event starts with "zzz"/);
  rejects(() => flags([], ['tag=nope']), /unknown set "nope"/);
  rejects(() => flags([], ['openat,,close']), /empty event name/);
});


test('tracee -o webhook:URL takes Tracee\'s gotemplate, contentType and timeout parameters', async () => {
  const { parseOutputOptions } = await import('../../host/cli/options.ts');
  const out = parseOutputOptions(['json', 'webhook:http://127.0.0.1:8080/hook?gotemplate=/t/falco.tmpl&contentType=application/x-ndjson&timeout=3s&x=1']);
  assert.equal(out.format, 'json');
  assert.deepEqual(out.webhook, { url: 'http://127.0.0.1:8080/hook?x=1', template: '/t/falco.tmpl', contentType: 'application/x-ndjson', timeoutMs: 3000 });
  assert.throws(() => parseOutputOptions(['webhook:not a url']), /--output webhook:not a url: not a URL/);
  assert.throws(() => parseOutputOptions(['webhook:http://x/?timeout=soon']), /timeout=soon: expected e.g. 5s or 500ms/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { BATCH_HEADER_SIZE } from '../../host/events/layout.ts';
import { parseJson, stringifyJson } from '../../host/events/event-json.ts';
import type { Finding } from '../../host/engine/finding.ts';
import type { FindingData } from '../../host/engine/finding-data.ts';
import type { SignatureMetadata } from '../../host/engine/metadata.ts';
import { findingToJson } from '../../host/output/finding-json.ts';
import { clearTemplateCache, compileTemplate, findingTemplateData, loadTemplateFile, renderFinding, TemplateError } from '../../host/output/template/index.ts';
import { traceeEvent } from '../helpers/events.ts';
import { ROOT } from '../helpers/tracee-process.ts';

const TEMPLATES = join(ROOT, 'templates');
const SHIPPED = ['rawjson', 'falcosidekick', 'simple', 'csv', 'xml'];

function signature(id: string, name: string, properties: SignatureMetadata['properties'], extra: Partial<SignatureMetadata> = {}): SignatureMetadata {
  return {
    abi: 1, id, version: '1', name, eventName: name.toLowerCase().replace(/\W+/g, '_'), description: `${name} <detected> & reported`,
    tags: ['linux', 'container'], properties, selectedEvents: [{ source: 'tracee', name: '*', origin: '*' }], ...extra,
  };
}

/** A finding whose record is a real flat-encoded event (as the engine copies it). */
function finding(sig: SignatureMetadata, event: ReturnType<typeof traceeEvent>, data: FindingData = {}, containerRef = 0): Finding {
  const w = new BatchWriter();
  w.add(event, containerRef);
  const batch = w.finish();
  const size = new DataView(batch.buffer).getUint32(BATCH_HEADER_SIZE, true);
  return { signature: sig, record: batch.slice(BATCH_HEADER_SIZE, BATCH_HEADER_SIZE + size), clockOffsetNs: 0n, data };
}

const containers = new ContainerTable();
const CONTAINER_REF = containers.refFor('0123456789abcdef0123456789abcdef');
containers.update('0123456789abcdef0123456789abcdef', { name: 'web', image: 'nginx:1.27', imageDigest: 'sha256:feed', podName: 'web-0', podNamespace: 'prod', podUID: 'u-1' });

const antiDebug = finding(
  signature('TRC-102', 'Anti-Debugging detected', { Severity: 1, Category: 'defense-evasion', Technique: 'Debugger Evasion' }),
  traceeEvent('ptrace', [['request', 0], ['pid', 0], ['addr', 0], ['data', 0]], { processName: 'strace', hostProcessId: 5151, contextFlags: { containerStarted: true, isCompat: false } }),
  {}, CONTAINER_REF,
);
const fileless = finding(
  signature('TRC-105', 'Fileless execution detected', { Severity: 3, Category: 'defense-evasion', Technique: 'Reflective Code Loading' }),
  traceeEvent('sched_process_exec', [['cmdpath', 'memfd:payload'], ['pathname', 'memfd:payload'], ['argv', ['payload', '-x']], ['inode', '18446744073709551615']],
    { processName: 'pay"load,x', hostName: 'node-1', timestamp: '1700000000000000001' }),
  { path: 'memfd:payload', size: 18446744073709551615n, elf: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]), exec: true },
);
const noSeverity = finding(
  signature('X-1', 'Custom', { Category: 'test' }, { tags: [] }),
  traceeEvent('security_file_open', [['pathname', '/etc/shadow'], ['flags', 0]], { userId: 1000 }),
  { note: 'a <b> & "c"' },
);
const ALL = [antiDebug, fileless, noSeverity];

test('templates see .SigMetadata, .Event.Payload (Go and JSON field names), .Context and .Data', () => {
  const t = compileTemplate('fields', [
    '{{ .SigMetadata.ID }} {{ .SigMetadata.EventName }} {{ .SigMetadata.Properties.Severity }} {{ .SigMetadata.Tags }}',
    '{{ .Event.Payload.ProcessName }} {{ .Event.Payload.processName }} {{ .Context.ProcessName }} {{ .Context.HostName }} {{ .Event.Payload.HostProcessID }}',
    '{{ .Event.Payload.Timestamp }} {{ .Event.Payload.EventID }} {{ .Event.Payload.EventName }} {{ .Event.Headers.Selector.Origin }} {{ .Event.Headers.Selector.Source }}',
    '{{ .Event.Payload.ContainerID }} {{ .Event.Payload.Container.ImageName }} {{ .Event.Payload.Kubernetes.PodName }} {{ .Event.Payload.ContextFlags.ContainerStarted }}',
    '{{ range .Event.Payload.Args }}{{ .Name }}={{ .Value }} {{ end }}',
    '{{ .Data }}',
  ].join('\n'));
  assert.equal(renderFinding(t, antiDebug, { containers, parseArguments: true }), [
    'TRC-102 anti_debugging_detected 1 [linux container]',
    'strace strace strace test-host 5151',
    '1732000000123456789 101 ptrace container tracee',
    '0123456789abcdef0123456789abcdef nginx:1.27 web-0 true',
    'request=PTRACE_TRACEME pid=0 addr=0 data=0 ',
    'map[]',
  ].join('\n'));
  assert.equal(renderFinding(compileTemplate('d', '{{ .Data }}|{{ .Event.Headers.Selector.Origin }}|{{ index .Event.Payload.Args 2 }}'), fileless),
    'map[elf:[127 69 76 70] exec:true path:memfd:payload size:18446744073709551615]|host|{{inode uint64} 18446744073709551615}');
});

test('a field a Finding does not have fails like Go', () => {
  try {
    renderFinding(compileTemplate('x.tmpl', 'a\n {{ .Event.Payload.Nope }}'), antiDebug);
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof TemplateError);
    assert.equal(err.message, 'template: x.tmpl:2:4: executing "x.tmpl" at <.Event.Payload.Nope>: can\'t evaluate field Nope in type trace.Event');
  }
});

test('the forms Tracee\'s own templates use render', () => {
  const t = compileTemplate('tracee', [
    '*** Detection ***',
    'Signature ID: {{ .SigMetadata.ID }}',
    'Data: {{ .Data }}',
    'Command: {{ .Event.Payload.ProcessName }}',
    'Hostname: {{ .Event.Payload.HostName }}',
    '<processname>{{ .Context.ProcessName }}</processname>',
    '{{ dateInZone "2006-01-02T15:04:05Z" (now) "UTC" | len }} {{ toPrettyJson .Data }}',
  ].join('\n'));
  assert.equal(renderFinding(t, noSeverity), [
    '*** Detection ***', 'Signature ID: X-1', 'Data: map[note:a <b> & "c"]', 'Command: trigger', 'Hostname: test-host',
    '<processname>trigger</processname>', '20 {\n  "note": "a \\u003cb\\u003e \\u0026 \\"c\\""\n}',
  ].join('\n'));
});

test('rawjson.tmpl prints what `--output json` prints', () => {
  const t = loadTemplateFile(join(TEMPLATES, 'rawjson.tmpl'));
  for (const f of ALL) {
    const out = renderFinding(t, f, { containers });
    assert.ok(out.endsWith('}\n') && !out.slice(0, -1).includes('\n'), 'one line per finding');
    const expected = parseJson(stringifyJson(findingToJson(f, { containers }))) as Record<string, any>;
    // Go's omitempty leaves out an empty matchedPolicies and a false podSandbox.
    if (expected.Context.matchedPolicies.length === 0) delete expected.Context.matchedPolicies;
    if (expected.Context.kubernetes.podSandbox === false) delete expected.Context.kubernetes.podSandbox;
    assert.deepEqual(parseJson(out), expected);
  }
  // 64-bit values stay exact.
  assert.match(renderFinding(t, fileless), /"size":18446744073709551615/);
  assert.match(renderFinding(t, fileless), /"timestamp":1700000000000000001/);
});

test('falcosidekick.tmpl builds the payload falcosidekick accepts', () => {
  const t = loadTemplateFile(join(TEMPLATES, 'falcosidekick.tmpl'));
  const out = JSON.parse(renderFinding(t, antiDebug, { containers, parseArguments: true }));
  assert.deepEqual(Object.keys(out).sort(), ['hostname', 'output', 'output_fields', 'priority', 'rule', 'source', 'tags', 'time']);
  assert.equal(out.priority, 'Notice');
  assert.equal(out.rule, 'Anti-Debugging detected');
  assert.equal(out.time, '2024-11-19T07:06:40.123456789Z');
  assert.equal(out.source, 'tracee');
  assert.deepEqual(out.tags, ['linux', 'container']);
  assert.equal(out.output, '07:06:40.123456789: Notice Anti-Debugging detected <detected> & reported (signature=TRC-102 process=strace pid=5151 uid=0 container=0123456789abcdef0123456789abcdef data=map[])');
  assert.deepEqual(out.output_fields, {
    'evt.time': 1732000000123456800, 'evt.type': 'ptrace', 'proc.name': 'strace', 'proc.pid': 5151, 'proc.ppid': 1, 'thread.tid': 4242, 'user.uid': 0,
    'container.id': '0123456789abcdef0123456789abcdef', 'container.name': 'web', 'container.image.repository': 'nginx:1.27',
    'k8s.pod.name': 'web-0', 'k8s.ns.name': 'prod', 'tracee.signature.id': 'TRC-102', 'tracee.severity': 1,
  });
  const other = JSON.parse(renderFinding(t, fileless));
  assert.equal(other.priority, 'Error');
  assert.equal(other.output_fields['container.id'], 'host');
  assert.equal(other.output_fields['tracee.data.path'], 'memfd:payload');
  assert.equal(other.output_fields['tracee.data.exec'], true);
  assert.equal(other.output_fields['tracee.data.elf'], 'f0VMRg==');
  assert.equal(other.time, '2023-11-14T22:13:20.000000001Z');
});

test('falcosidekick.tmpl maps severity 0-4 to Falco priorities', () => {
  const t = loadTemplateFile(join(TEMPLATES, 'falcosidekick.tmpl'));
  const priority = (severity: unknown) => {
    const props: SignatureMetadata['properties'] = severity === undefined ? {} : { Severity: severity as number };
    return JSON.parse(renderFinding(t, finding(signature('S', 'S', props), traceeEvent('ptrace', [])))).priority;
  };
  assert.deepEqual([0, 1, 2, 3, 4, 7, '3', undefined].map(priority), ['Informational', 'Notice', 'Warning', 'Error', 'Critical', 'Informational', 'Error', 'Informational']);
  assert.deepEqual(JSON.parse(renderFinding(t, noSeverity)).tags, [], 'no tags is an empty list, not null');
});

test('simple.tmpl', () => {
  const t = loadTemplateFile(join(TEMPLATES, 'simple.tmpl'));
  assert.equal(renderFinding(t, antiDebug, { containers }), [
    '*** Detection ***', 'Time: 2024-11-19T07:06:40Z', 'Signature ID: TRC-102', 'Signature: Anti-Debugging detected', 'Severity: 1', 'Data: map[]',
    'Command: strace', 'PID: 5151', 'Hostname: test-host', 'Container: 0123456789abcdef0123456789abcdef', '',
  ].join('\n'));
  assert.equal(renderFinding(t, noSeverity), [
    '*** Detection ***', 'Time: 2024-11-19T07:06:40Z', 'Signature ID: X-1', 'Signature: Custom', 'Severity: <no value>', 'Data: map[note:a <b> & "c"]',
    'Command: trigger', 'PID: 4242', 'Hostname: test-host', '',
  ].join('\n'));
});

test('csv.tmpl quotes text fields RFC 4180 style', () => {
  const t = loadTemplateFile(join(TEMPLATES, 'csv.tmpl'));
  assert.equal(renderFinding(t, fileless),
    '2023-11-14T22:13:20.000000001Z,TRC-105,"Fileless execution detected",3,"pay""load,x",4242,"node-1",,"map[elf:[127 69 76 70] exec:true path:memfd:payload size:18446744073709551615]"\n');
  assert.equal(renderFinding(t, antiDebug, { containers }),
    '2024-11-19T07:06:40.123456789Z,TRC-102,"Anti-Debugging detected",1,"strace",5151,"test-host",0123456789abcdef0123456789abcdef,"map[]"\n');
});

test('xml.tmpl escapes markup and lists the data', () => {
  const t = loadTemplateFile(join(TEMPLATES, 'xml.tmpl'));
  assert.equal(renderFinding(t, noSeverity), [
    '<?xml version="1.0" encoding="UTF-8" ?>',
    '<detection timestamp="2024-11-19T07:06:40.123456789Z" signature="X-1" severity="&lt;no value&gt;">',
    '  <name>Custom</name>', '  <processname>trigger</processname>', '  <pid>4242</pid>', '  <hostname>test-host</hostname>',
    '  <data>', '    <item key="note">a &lt;b&gt; &amp; &#34;c&#34;</item>', '  </data>', '</detection>', '',
  ].join('\n'));
  assert.match(renderFinding(t, antiDebug, { containers }), /<container>0123456789abcdef0123456789abcdef<\/container>/);
});

test('every shipped template renders every finding', () => {
  for (const name of SHIPPED) {
    const t = loadTemplateFile(join(TEMPLATES, `${name}.tmpl`));
    for (const f of ALL) {
      const out = renderFinding(t, f, { containers, parseArguments: true });
      assert.ok(out.length > 0 && !out.includes('%!'), `${name} on ${f.signature.id}: ${out}`);
      if (name === 'rawjson' || name === 'falcosidekick') JSON.parse(out);
    }
  }
});

test('template files compile once and are cached by path; a missing file is a typed error', () => {
  clearTemplateCache();
  const a = loadTemplateFile(join(TEMPLATES, 'simple.tmpl'));
  assert.equal(loadTemplateFile(join(TEMPLATES, '..', 'templates', 'simple.tmpl')), a);
  assert.equal(a.name, 'simple.tmpl');
  assert.throws(() => loadTemplateFile(join(TEMPLATES, 'nope.tmpl')), (e: unknown) => e instanceof TemplateError && e.code === 'TRC_ERR_TEMPLATE_FILE' && /nope\.tmpl/.test(e.message));
});

test('findingTemplateData decodes the record once into Go structs', () => {
  const d = findingTemplateData(fileless);
  assert.equal(d.type.name, '*detect.Finding');
  assert.equal(d.field('Context').value, (d.field('Event').value as any).field('Payload').value);
});

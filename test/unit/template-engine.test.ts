import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, GoStruct, GoStructType, GoTime, TemplateError, TemplateExecError } from '../../host/output/template/index.ts';

const render = (text: string, data: unknown = {}) => compileTemplate('t', text).execute(data);

/** The message a template fails with, at parse or execution. */
function failure(text: string, data: unknown = {}, name = 't'): string {
  try {
    compileTemplate(name, text).execute(data);
  } catch (err) {
    assert.ok(err instanceof TemplateError, `expected a TemplateError, got ${err}`);
    return err.message;
  }
  assert.fail(`template ${JSON.stringify(text)} did not fail`);
}

test('text, fields, chains and map keys', () => {
  assert.equal(render('plain text'), 'plain text');
  assert.equal(render('{{ .a }}-{{ .b.c.d }}', { a: 'x', b: { c: { d: 'deep' } } }), 'x-deep');
  assert.equal(render('{{ . }}', 'dot'), 'dot');
  assert.equal(render('{{ .a.b }}', { a: { b: 'k' } }), 'k');
  assert.equal(render('{{ (.a).b }}', { a: { b: 'chained' } }), 'chained');
  assert.equal(render('{{ $.top }}', { top: 'root' }), 'root');
});

test('missing map keys print <no value>, nil inside containers prints <nil>', () => {
  assert.equal(render('{{ .missing }}'), '<no value>');
  assert.equal(render('{{ .missing.deeper }}'), '<no value>', 'a chain through a missing key stays missing');
  assert.equal(render('{{ .n }}', { n: null }), '<no value>');
  assert.equal(render('{{ .m }}', { m: { a: null, b: [null, 1] } }), 'map[a:<nil> b:[<nil> 1]]');
  assert.equal(render('{{ printf "%v" .missing }}'), '<nil>');
  assert.equal(render('{{ print .missing }}'), '<nil>');
  assert.equal(render('{{ index .m "nope" }}', { m: { a: 1 } }), '<no value>');
});

test('Go value printing: sorted maps, slices, exact 64-bit integers, floats', () => {
  assert.equal(render('{{ .m }}', { m: { zeta: 1, alpha: 'a', mid: [1, 'two', true] } }), 'map[alpha:a mid:[1 two true] zeta:1]');
  assert.equal(render('{{ .m }}', { m: {} }), 'map[]');
  assert.equal(render('{{ .s }}', { s: ['a', 'b c'] }), '[a b c]');
  assert.equal(render('{{ .u }} {{ .i }}', { u: 18446744073709551615n, i: -9223372036854775808n }), '18446744073709551615 -9223372036854775808');
  assert.equal(render('{{ .ts }}', { ts: 1732000000123456789n }), '1732000000123456789');
  assert.equal(render('{{ .n }} {{ .z }} {{ .neg }}', { n: 3, z: 0, neg: -42 }), '3 0 -42');
  assert.equal(render('{{ .a }} {{ .b }} {{ .c }} {{ .d }} {{ .e }}', { a: 1.5, b: 0.1, c: 1234567.5, d: 0.00001, e: 123456.25 }), '1.5 0.1 1.2345675e+06 1e-05 123456.25');
  assert.equal(render('{{ .b }}', { b: new Uint8Array([127, 69, 76, 70]) }), '[127 69 76 70]');
  assert.equal(render('{{ .t }} {{ .f }}', { t: true, f: false }), 'true false');
});

test('structs print their fields in order, %+v with names; fields answer to Go and json names', () => {
  const T = new GoStructType('trace.File', [{ name: 'Path', json: 'path' }, { name: 'Mode', json: 'mode' }, { name: 'Secret', hidden: true }]);
  const v = T.make({ Path: '/bin/sh', Mode: 493, Secret: 's' });
  assert.equal(render('{{ . }}', v), '{/bin/sh 493}');
  assert.equal(render('{{ printf "%+v" . }}', v), '{Path:/bin/sh Mode:493}');
  assert.equal(render('{{ .Path }} {{ .path }} {{ .Secret }}', v), '/bin/sh /bin/sh s');
  assert.equal(render('{{ toJson . }}', v), '{"path":"/bin/sh","mode":493}');
  assert.match(failure('{{ .Nope }}', v), /can't evaluate field Nope in type trace\.File$/);
  assert.ok(v instanceof GoStruct);
});

test('variables: $, declaration, assignment across scopes, range variables', () => {
  assert.equal(render('{{ $x := .a }}{{ $x }}{{ $x = "changed" }} {{ $x }}', { a: 'orig' }), 'orig changed');
  assert.equal(render('{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}'), '2');
  assert.equal(render('{{ range .l }}{{ $.sep }}{{ . }}{{ end }}', { l: ['a', 'b'], sep: '/' }), '/a/b');
  assert.equal(render('{{ with $v := .a }}{{ $v }}{{ end }}', { a: 'w' }), 'w');
  assert.match(failure('{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}'), /undefined variable "\$y"/);
});

test('pipelines and parenthesised sub-expressions', () => {
  assert.equal(render('{{ "x" | printf "%s-%s" "a" }}'), 'a-x');
  assert.equal(render('{{ .l | len }}', { l: [1, 2, 3] }), '3');
  assert.equal(render('{{ printf "%d items" (len .l) }}', { l: [1, 2] }), '2 items');
  assert.equal(render('{{ (printf "%s" "in") | upper | printf "<%s>" }}'), '<IN>');
  assert.equal(render('{{ .missing | printf "%v" }}'), '<nil>');
});

test('if / else if / else and with / else with', () => {
  const t = '{{ if gt .n 10 }}big{{ else if gt .n 1 }}medium{{ else if eq .n 1 }}one{{ else }}none{{ end }}';
  assert.deepEqual([20, 5, 1, 0].map((n) => render(t, { n })), ['big', 'medium', 'one', 'none']);
  assert.equal(render('{{ if .s }}yes{{ end }}|{{ if .e }}yes{{ else }}no{{ end }}', { s: 'x', e: '' }), 'yes|no');
  assert.equal(render('{{ if .missing }}yes{{ else }}no{{ end }}'), 'no');
  assert.equal(render('{{ if and .a (not .b) }}ok{{ end }}', { a: 1, b: [] }), 'ok');
  assert.equal(render('{{ with .a }}{{ .b }}{{ else }}none{{ end }}', { a: { b: 'inner' } }), 'inner');
  assert.equal(render('{{ with .x }}x{{ else with .y }}{{ . }}{{ else }}none{{ end }}', { y: 'why' }), 'why');
  assert.equal(render('{{ with .m }}{{ . }}{{ else }}empty{{ end }}', { m: {} }), 'empty');
});

test('range over slices, maps in sorted key order, ints, with else, break and continue', () => {
  assert.equal(render('{{ range .l }}[{{ . }}]{{ end }}', { l: ['a', 'b'] }), '[a][b]');
  assert.equal(render('{{ range $i, $e := .l }}{{ $i }}={{ $e }} {{ end }}', { l: ['a', 'b'] }), '0=a 1=b ');
  assert.equal(render('{{ range $k, $v := .m }}{{ $k }}:{{ $v }},{{ end }}', { m: { b: 2, c: 3, a: 1 } }), 'a:1,b:2,c:3,');
  assert.equal(render('{{ range $v := .m }}{{ $v }}{{ end }}', { m: { b: 2, a: 1 } }), '12');
  assert.equal(render('{{ range .l }}x{{ else }}empty{{ end }}', { l: [] }), 'empty');
  assert.equal(render('{{ range .missing }}x{{ else }}nil is empty{{ end }}'), 'nil is empty');
  assert.equal(render('{{ range 3 }}{{ . }}{{ end }}'), '012');
  assert.equal(render('{{ range .l }}{{ if eq . 3 }}{{ break }}{{ end }}{{ if eq . 1 }}{{ continue }}{{ end }}{{ . }}{{ end }}', { l: [0, 1, 2, 3, 4] }), '02');
  assert.equal(render('{{ range .b }}{{ . }},{{ end }}', { b: new Uint8Array([1, 2]) }), '1,2,');
  assert.match(failure('{{ range .s }}{{ end }}', { s: 'str' }), /range can't iterate over str$/);
});

test('define, template and block', () => {
  assert.equal(render('{{ define "item" }}<{{ . }}>{{ end }}{{ range .l }}{{ template "item" . }}{{ end }}', { l: [1, 2] }), '<1><2>');
  assert.equal(render('{{ block "b" .x }}[{{ . }}]{{ end }}', { x: 'blk' }), '[blk]');
  assert.equal(render('{{ define "noarg" }}{{ . }}{{ end }}{{ template "noarg" }}'), '<no value>');
  const t = compileTemplate('set', '{{ define "a" }}A{{ .}}{{ end }}{{ define "b" }}B{{ end }}main');
  assert.deepEqual(t.templateNames().sort(), ['a', 'b', 'set']);
  assert.equal(t.executeTemplate('a', 1), 'A1');
  assert.equal(t.execute(null), 'main');
  assert.match(failure('{{ template "nope" }}'), /executing "t" at <{{template "nope"}}>: template "nope" not defined$/);
});

test('trim markers and comments', () => {
  assert.equal(render('a  \n {{- "b" -}} \n  c'), 'abc');
  assert.equal(render('a {{- /* a comment */ -}} b'), 'ab');
  assert.equal(render('a {{/* kept spaces */}} b'), 'a  b');
  assert.equal(render('{{- 3 }} {{ -3 -}} x'), '3 -3x', '"-3" is a number, not a trim marker');
  assert.equal(render('{{ "x" }}\n{{- "y" }}'), 'xy');
});

test('constants: strings, raw strings, chars, numbers, bools, nil', () => {
  assert.equal(render('{{ "tab\\there" }}|{{ `raw\\n` }}|{{ \'a\' }}|{{ 0x1F }}|{{ 0o17 }}|{{ 1_000 }}|{{ true }}'), 'tab\there|raw\\n|97|31|15|1000|true');
  assert.equal(render('{{ 9223372036854775807 }} {{ 18446744073709551615 }}'), '9223372036854775807 18446744073709551615');
  assert.equal(render('{{ print nil }}'), '<nil>');
  assert.match(failure('{{ nil }}'), /nil is not a command/);
});

test('comparison built-ins: eq ne lt le gt ge, mixed numbers, strings, nil', () => {
  assert.equal(render('{{ eq 1 2 3 1 }} {{ eq "a" "b" }} {{ ne 1 2 }} {{ eq .big 18446744073709551615 }}', { big: 18446744073709551615n }), 'true false true true');
  assert.equal(render('{{ lt 1 2 }} {{ le 2 2 }} {{ gt 1.5 1 }} {{ ge "b" "a" }} {{ lt "B" "a" }}'), 'true true true true true');
  assert.equal(render('{{ eq .missing "x" }} {{ eq .n nil }}', { n: null }), 'false true');
  assert.match(failure('{{ eq 1 "1" }}'), /error calling eq: incompatible types for comparison$/);
  assert.match(failure('{{ lt true false }}'), /error calling lt: invalid type for comparison$/);
  assert.match(failure('{{ eq .l .l }}', { l: [1] }), /non-comparable type/);
});

test('and/or short-circuit and return the deciding value', () => {
  assert.equal(render('{{ and 1 0 "x" }}|{{ and 1 "x" }}|{{ or 0 "" "y" }}|{{ or 0 "" }}'), '0|x|y|');
  // The second operand would fail if evaluated.
  assert.equal(render('{{ or .ok (index .l 99) }}', { ok: 'short', l: [] }), 'short');
  assert.equal(render('{{ and .missing (index .l 99) }}', { l: [] }), '<no value>');
  assert.equal(render('{{ "last" | and 1 }}'), 'last');
});

test('len, index, slice', () => {
  assert.equal(render('{{ len "héllo" }} {{ len .l }} {{ len .m }} {{ len .b }}', { l: [1, 2], m: { a: 1 }, b: new Uint8Array(3) }), '6 2 1 3');
  assert.equal(render('{{ index .l 1 }} {{ index .m "k" }} {{ index .n "a" 0 }} {{ index "abc" 1 }}', { l: ['a', 'b'], m: { k: 'v' }, n: { a: ['deep'] } }), 'b v deep 98');
  assert.equal(render('{{ slice .l 1 }} {{ slice .l 1 2 }} {{ slice "hello" 1 3 }} {{ slice .l }}', { l: [1, 2, 3] }), '[2 3] [2] el [1 2 3]');
  assert.match(failure('{{ len 3 }}'), /error calling len: len of type int$/);
  assert.match(failure('{{ index .l 5 }}', { l: [1] }), /^template: t:1:3: executing "t" at <index \.l 5>: error calling index: index out of range: 5$/);
  assert.match(failure('{{ index .l "x" }}', { l: [1] }), /cannot index slice\/array with type string/);
  assert.match(failure('{{ index .s 0 }}', { s: new GoStructType('x.T', []).make({}) }), /can't index item of type x\.T/);
});

test('print, println and printf with Go verbs', () => {
  assert.equal(render('{{ print 1 2 "a" 3 "b" "c" }}'), '1 2a3bc');
  assert.equal(render('{{ println 1 "a" }}'), '1 a\n');
  const cases: Array<[string, unknown[], string]> = [
    ['%s|%v|%q', ['str', 'v', 'q"x'], 'str|v|"q\\"x"'],
    ['%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%b|%#x', [42, 42, 42, 42, 42, 255, 255, 8, 5, 255], '42|   42|42   |00042|+42|ff|FF|10|101|0xff'],
    ['%d', [18446744073709551615n], '18446744073709551615'],
    ['%f|%.2f|%8.3f|%e|%g|%.3g|%v', [3.14159, 3.14159, 3.14159, 1234.5678, 0.000012345, 3.14159, 2.5], '3.141590|3.14|   3.142|1.234568e+03|1.2345e-05|3.14|2.5'],
    ['%t|%v', [true, false], 'true|false'],
    ['%T|%T|%T|%T|%T|%T|%T', ['s', 1, 1.5, true, [1], { a: 1 }, 18446744073709551615n], 'string|int|float64|bool|[]interface {}|map[string]interface {}|uint64'],
    ['%c|%U|%q', [65, 0x1f600, 97], 'A|U+1F600|\'a\''],
    ['%x|% x|%X', ['hi', 'hi', new Uint8Array([0xde, 0xad])], '6869|68 69|DEAD'],
    ['%s|%.2s|%-4s|%4s', ['bytes', 'abcdef', 'ab', 'ab'], 'bytes|ab|ab  |  ab'],
    ['%v|%d', [{ b: 2, a: 1 }, [1, 2]], 'map[a:1 b:2]|[1 2]'],
    ['%d|%s', ['str', 5], '%!d(string=str)|%!s(int=5)'],
    ['%d %d', [1], '1 %!d(MISSING)'],
    ['%d', [1, 'extra'], '1%!(EXTRA string=extra)'],
    ['100%%', [], '100%'],
    ['%v|%s', [null, null], '<nil>|%!s(<nil>)'],
  ];
  for (const [fmt, args, want] of cases) {
    const t = compileTemplate('p', '{{ printf .f ' + args.map((_, i) => `(index .a ${i})`).join(' ') + ' }}');
    assert.equal(t.execute({ f: fmt, a: args }), want, `printf ${JSON.stringify(fmt)}`);
  }
});

test('html, js and urlquery escape like Go', () => {
  assert.equal(render('{{ html .s }}', { s: `<a href="x">'&'</a>` }), '&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(render('{{ js .s }}', { s: `it's "a" <b> & c=d\\\n` }), 'it\\\'s \\"a\\" \\u003Cb\\u003E \\u0026 c\\u003Dd\\\\\\u000A');
  assert.equal(render('{{ urlquery .s }}', { s: 'a b&c=d/é~' }), 'a+b%26c%3Dd%2F%C3%A9~');
  assert.equal(render('{{ html .missing }}'), '&lt;no value&gt;');
  assert.equal(render('{{ urlquery "a" 1 2 }}'), 'a1+2');
});

test('sprig: toJson / toPrettyJson like encoding/json', () => {
  assert.equal(render('{{ toJson . }}', { z: 1, a: '<b>&', n: null, l: [1.5, true], big: 1n << 63n, bytes: new Uint8Array([1, 2, 3]) }),
    '{"a":"\\u003cb\\u003e\\u0026","big":9223372036854775808,"bytes":"AQID","l":[1.5,true],"n":null,"z":1}');
  assert.equal(render('{{ toPrettyJson . }}', { b: [1, { c: 2 }], a: {}, e: [] }), '{\n  "a": {},\n  "b": [\n    1,\n    {\n      "c": 2\n    }\n  ],\n  "e": []\n}');
  assert.equal(render('{{ toJson .missing }}|{{ toJson "x\\ny" }}|{{ toJson 1e-7 }}'), 'null|"x\\ny"|1e-7');
  assert.equal(render('{{ toJson .s }}', { s: 'lone \ud800 surrogate \u2028' }), '"lone \ufffd surrogate \\u2028"');
});

test('sprig: strings, defaults and emptiness', () => {
  assert.equal(render('{{ upper "aB" }} {{ lower "aB" }} [{{ trim "  x \\n" }}] {{ replace "a" "o" "banana" }}'), 'AB ab [x] bonono');
  assert.equal(render('{{ join "," .l }} {{ join "-" .s }} {{ split "," "a,b" }} {{ splitList "," "a,b" }}', { l: ['a', 'b'], s: [1, null, 'x'] }), 'a,b 1-x map[_0:a _1:b] [a b]');
  assert.equal(render('{{ contains "ell" "hello" }} {{ hasPrefix "he" "hello" }} {{ hasSuffix "lo" "hello" }} {{ contains "z" "hello" }}'), 'true true true false');
  assert.equal(render('{{ quote "a\\"b" 1 }} {{ squote "a" }} {{ toString 42 }} {{ toString .b }}', { b: new Uint8Array([104, 105]) }), '"a\\"b" "1" \'a\' 42 hi');
  assert.equal(render('{{ default "d" .missing }} {{ .missing | default "p" }} {{ default "d" 0 }} {{ default "d" "set" }} {{ default "d" .l }}', { l: [] }), 'd p d set d');
  assert.equal(render('{{ empty .missing }} {{ empty 0 }} {{ empty "" }} {{ empty .m }} {{ empty 1 }} {{ empty .s }}', { m: {}, s: new GoStructType('T', []).make({}) }), 'true true true true false false');
  assert.match(failure('{{ upper 3 }}'), /wrong type for value; expected string; got int$/);
});

test('sprig: now, date and dateInZone with Go layouts; Tracee timestamps are nanoseconds', () => {
  const ns = 1732000000123456789n; // 2024-11-19T07:06:40.123456789Z, a Tuesday
  assert.equal(render('{{ dateInZone "2006-01-02T15:04:05Z07:00" .t "UTC" }}', { t: ns }), '2024-11-19T07:06:40Z');
  assert.equal(render('{{ dateInZone "2006-01-02T15:04:05.999999999Z07:00" .t "UTC" }}', { t: ns }), '2024-11-19T07:06:40.123456789Z');
  assert.equal(render('{{ dateInZone "Mon Jan _2 15:04:05.000 MST 2006" .t "UTC" }}', { t: ns }), 'Tue Nov 19 07:06:40.123 UTC 2024');
  assert.equal(render('{{ dateInZone "Monday, 02-January-06 3:04PM -0700 (-07:00) day 002" .t "UTC" }}', { t: ns }), 'Tuesday, 19-November-24 7:06AM +0000 (+00:00) day 324');
  assert.equal(render('{{ dateInZone "2006-01-02 15:04:05 Z07:00 MST" .t "Europe/Paris" }}', { t: ns }), '2024-11-19 08:06:40 +01:00 CET');
  assert.equal(render('{{ dateInZone "15:04 MST" .t "America/New_York" }}', { t: ns }), '02:06 EST');
  assert.equal(render('{{ dateInZone "2006-01-02T15:04:05Z" .t "No/Such_Zone" }}', { t: ns }), '2024-11-19T07:06:40Z', 'an unknown zone is UTC, as in Sprig');
  assert.equal(render('{{ dateInZone "2006-01-02 15:04:05" 1700000000 "UTC" }}'), '2023-11-14 22:13:20', 'small integers are Unix seconds');
  assert.equal(render('{{ dateInZone "2006-01-02 .000 ,999" .d "UTC" }}', { d: new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 60)) }), '2020-01-02 .060 ,06');
  process.env.TZ = 'UTC';
  assert.equal(render('{{ date "2006-01-02" .t }}', { t: ns }), '2024-11-19');
  const now = render('{{ dateInZone "2006-01-02T15:04:05Z" (now) "UTC" }}');
  assert.ok(Math.abs(Date.parse(now) - Date.now()) < 5000, `now renders the wall clock: ${now}`);
  assert.equal(render('{{ printf "%T" now }}'), 'time.Time');
  assert.equal(render('{{ .t }}', { t: new GoTime(ns, 'UTC') }), '2024-11-19 07:06:40.123456789 +0000 UTC');
});

test('parse errors name the template, line and column', () => {
  assert.equal(failure('line one\n  x {{ foo .a }}', {}, 'simple.tmpl'), 'template: simple.tmpl:2:7: function "foo" not defined');
  assert.equal(failure('{{ if .a }}x', {}, 'e.tmpl'), 'template: e.tmpl:1:12: unexpected EOF');
  assert.equal(failure('{{ end }}'), 'template: t:1:3: unexpected {{end}}');
  assert.equal(failure('{{ .a '), 'template: t:1:0: unclosed action');
  assert.equal(failure('{{ if }}{{ end }}'), 'template: t:1:6: missing value for if');
  assert.equal(failure('\n\n   {{ $x }}'), 'template: t:3:6: undefined variable "$x"');
  assert.equal(failure('{{ break }}'), 'template: t:1:3: {{break}} outside {{range}}');
  assert.equal(failure('{{ .a | "x" }}'), 'template: t:1:8: non executable command in pipeline stage 2');
  assert.equal(failure('{{ .a# }}'), "template: t:1:5: bad character U+0023 '#'");
  assert.equal(failure('{{ "abc }}'), 'template: t:1:3: unterminated quoted string');
  assert.equal(failure('{{ (.a }}'), 'template: t:1:7: unclosed left paren');
  assert.equal(failure('{{/* x }}'), 'template: t:1:0: unclosed comment');
  assert.equal(failure('{{ define "x" }}a{{ end }}{{ define "x" }}b{{ end }}'), 'template: t:1:26: template: multiple definition of template "x"');
  const err = (() => { try { compileTemplate('t', '{{ foo }}'); } catch (e) { return e; } })() as TemplateError;
  assert.equal(err.code, 'TRC_ERR_TEMPLATE_PARSE');
  assert.deepEqual([err.template, err.line, err.col], ['t', 1, 3]);
});

test('execution errors say what was executing and where', () => {
  assert.equal(failure('ok\n{{ .a.b }}', { a: 'str' }, 'x.tmpl'), 'template: x.tmpl:2:3: executing "x.tmpl" at <.a.b>: can\'t evaluate field b in type string');
  assert.equal(failure('{{ .a.b }}', { a: null }), 'template: t:1:3: executing "t" at <.a.b>: nil pointer evaluating interface {}.b');
  assert.equal(failure('{{ printf }}'), 'template: t:1:3: executing "t" at <printf>: wrong number of args for printf: want at least 1 got 0');
  assert.equal(failure('{{ upper "a" "b" }}'), 'template: t:1:3: executing "t" at <upper>: wrong number of args for upper: want 1 got 2');
  assert.equal(failure('{{ .m.k 1 }}', { m: { k: 1 } }), 'template: t:1:3: executing "t" at <.m.k>: k is not a method but has arguments');
  assert.equal(failure('{{ "s" 1 }}'), 'template: t:1:3: executing "t" at <"s">: can\'t give argument to non-function "s"');
  assert.equal(failure('{{ define "in" }}{{ .x.y }}{{ end }}{{ template "in" . }}', { x: 1 }), 'template: t:1:20: executing "in" at <.x.y>: can\'t evaluate field y in type int');
  const err = (() => { try { render('{{ index .l 3 }}', { l: [] }); } catch (e) { return e; } })() as TemplateExecError;
  assert.ok(err instanceof TemplateExecError);
  assert.equal(err.code, 'TRC_ERR_TEMPLATE_EXEC');
});

test('extra functions can be added per template', () => {
  const t = compileTemplate('f', '{{ shout .x }}', { funcs: { shout: (s: unknown) => `${s}!` } });
  assert.equal(t.execute({ x: 'hey' }), 'hey!');
  assert.match(failure('{{ shout .x }}'), /function "shout" not defined/);
});

test('a compiled template renders many times with different data', () => {
  const t = compileTemplate('many', '{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}');
  for (let i = 0; i < 100; i++) assert.equal(t.execute({ i, s: `v${i}` }), `i=${i};s=v${i};`);
});

// Unit tests for the Rego parser (host/build/rego/parser): v0 and v1 syntax,
// terms, rule heads, keywords, and `file:line:col` errors.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseModule, parseQuery, termString, exprString, type Rule, type Term } from "../../host/build/rego/parser/index.ts";
import { RegoError } from "../../host/build/rego/parser/errors.ts";

const v1 = (text: string) => parseModule(text, "t.rego", { v1: true });
const v0 = (text: string) => parseModule(text, "t.rego", { v1: false });
const head = (r: Rule) => ({
  ref: r.head.ref.map(termString).join(" "),
  key: r.head.key && termString(r.head.key),
  value: r.head.value && termString(r.head.value),
  args: r.head.args?.map(termString),
});

function parseError(f: () => unknown): RegoError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RegoError, `not a RegoError: ${e}`);
    return e;
  }
  assert.fail("no error");
}

describe("rego parser: modules", () => {
  it("reads the package, imports and rules of a v1 module", () => {
    const m = v1(`package a.b["c-d"]
import rego.v1
import data.x.y as z
import input.foo

p := 1
q contains x if { x := input.xs[_] }
r[k] := v if { some k, v in input.m }
f(x, y) := x + y
default g := false
g if input.ok
h.i.j := 2
`);
    assert.deepEqual(m.package.map(termString), ["data", '"a"', '"b"', '"c-d"']);
    assert.deepEqual(m.imports.map((i) => [termString(i.path), i.alias]), [["rego.v1", undefined], ["data.x.y", "z"], ["input.foo", undefined]]);
    assert.equal(m.v1, true);
    assert.deepEqual(m.rules.map(head), [
      { ref: "p", key: undefined, value: "1", args: undefined },
      { ref: "q", key: "x", value: undefined, args: undefined },
      { ref: "r k", key: undefined, value: "v", args: undefined },
      { ref: "f", key: undefined, value: "plus(x, y)", args: ["x", "y"] },
      { ref: "g", key: undefined, value: "false", args: undefined },
      { ref: "g", key: undefined, value: undefined, args: undefined },
      { ref: 'h "i" "j"', key: undefined, value: "2", args: undefined },
    ]);
    assert.equal(m.rules[4].default, true);
  });

  it("reads Tracee-style v0 rules: partial sets, functions with several bodies, default functions", () => {
    const m = v0(`package tracee.TRC_2
import data.tracee.helpers

__rego_metadoc__ := {"id": "TRC-2", "tags": ["linux",],}
tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}
tracee_match = res {
	arg := input.args[_]
	res := {"x": arg.value}
}
default is_file_write(flags) = false
is_file_write(flags) { contains(lower(flags), "o_wronly") }
p { a } { b }
`);
    assert.equal(m.v1, false);
    const hs = m.rules.map(head);
    assert.deepEqual(hs[1], { ref: "tracee_selected_events", key: "eventSelector", value: undefined, args: undefined });
    assert.deepEqual(hs[2], { ref: "tracee_match", key: undefined, value: "res", args: undefined });
    assert.deepEqual(hs[3].args, ["flags"]);
    assert.equal(m.rules[3].default, true);
    // `p { a } { b }` is two rules
    assert.deepEqual(m.rules.slice(5).map((r) => exprString(r.body[0])), ["a", "b"]);
  });

  it("makes a module importing rego.v1 v1, and future.keywords enables keywords in v0", () => {
    assert.equal(parseModule("package p\nimport rego.v1\nq contains 1 if true\n", "t.rego", { v1: false }).v1, true);
    const m = v0("package p\nimport future.keywords.in\nq { 1 in input.xs }\n");
    assert.equal(exprString(m.rules[0].body[0]), "internal.member_2(1, input.xs)");
    // without the import, `in` is just a name in v0
    parseError(() => v0("package p\nq { 1 in input.xs }\n"));
  });

  it("parses else chains, raw strings and comments", () => {
    const m = v1("package p\n# comment\nx := 1 if { input.a } else := 2 if { input.b } else := `raw\\n` # trailing\n");
    const r = m.rules[0];
    assert.equal(termString(r.else!.head.value!), "2");
    assert.equal(termString(r.else!.else!.head.value!), JSON.stringify("raw\\n"));
  });

  it("accepts keywords as ref heads and calls (as.foo := 1, contains(s, t))", () => {
    const m = v1("package p\nas.foo := 1\nnull.x := 2\nq if contains(\"abc\", \"b\")\nr if not.x == 3\nnot.x := 3\n");
    assert.deepEqual(m.rules.map((r) => r.head.ref.map(termString).join(".")), ['as."foo"', 'null."x"', "q", "r", 'not."x"']);
  });
});

describe("rego parser: terms and expressions", () => {
  const expr = (text: string) => exprString(parseQuery(text)[0]);
  it("follows OPA's operator precedence", () => {
    assert.equal(expr("x := 1 + 2 * 3 == 7"), "assign(x, equal(plus(1, mul(2, 3)), 7))");
    assert.equal(expr("a | b & c"), "or(a, and(b, c))");
    assert.equal(expr("1 in xs == true"), "internal.member_2(1, equal(xs, true))");
    assert.equal(expr("x = -1"), "eq(x, -1)");
    assert.equal(expr("k, v in {\"a\": 1}"), 'internal.member_3(k, v, {"a": 1})');
  });

  it("parses refs, calls on refs, collections and comprehensions", () => {
    assert.equal(expr("input.a[0].b[x]"), "input.a[0].b[x]");
    assert.match(expr("count([x | x := input[_]; x > 1])"), /^count\(\[x \| assign\(x, input\[\$\d+\]\); gt\(x, 1\)\]\)$/);
    assert.equal(expr('{k: v | some k; v := input[k]}'), "{k: v | some k; assign(v, input[k])}");
    assert.equal(expr("{1, 2}"), "{1, 2}");
    assert.equal(expr("set()"), "set()");
    assert.equal(expr("{}"), "{}");
    assert.equal(expr('strings.replace_n({"a": "b"}, "xa")'), 'strings.replace_n({"a": "b"}, "xa")');
  });

  it("parses some, every, not and with", () => {
    const body = parseQuery("some x in xs\nevery k, v in m { v > k }\nnot p with input as {} with data.a.b as 1");
    assert.equal(body.map(exprString).join("; "), 'some x in xs; every k, v in m { gt(v, k) }; not p with input as {} with data.a.b as 1');
  });

  it("continues a ref only without whitespace before [ or .", () => {
    const m = v0("package p\nq[x] { x := input.a [1] }\n".replace(" [1]", "[1]"));
    assert.equal(exprString(m.rules[0].body[0]), "assign(x, input.a[1])");
    parseError(() => parseQuery("x := input.a [1]"));
  });
});

describe("rego parser: template strings", () => {
  const expr = (text: string) => exprString(parseQuery(text)[0]);
  it("lowers $\"…{expr}…\" to internal.template_string: scalars as they are, other expressions as set comprehensions", () => {
    assert.match(expr('x := $"a {1} {"s"} {null} {input.y}\\n"'),
      /^assign\(x, internal\.template_string\(\["a ", 1, " ", "s", " ", null, " ", \{\$t(\d+) \| eq\(\$t\1, input\.y\)\}, "\\n"\]\)\)$/);
    assert.equal(expr('x := $""'), "assign(x, internal.template_string([]))");
    // \{ is a literal brace; `}` alone is text
    assert.equal(expr('x := $"\\{42} }"'), 'assign(x, internal.template_string(["{42} }"]))');
    // a `with` stays on the comprehension's expression
    assert.match(expr('x := $"{a with input as {"a": 1}}"'), /\{\$t\d+ \| eq\(\$t\d+, a\) with input as \{"a": 1\}\}/);
  });

  it("lexes nested braces, strings and template strings inside an expression", () => {
    assert.match(expr('x := $"{ {"}": $"{ {1} }"} }"'), /^assign\(x, internal\.template_string\(\[\{\$t\d+ \| eq\(\$t\d+, \{"\}": internal\.template_string\(\[\{\$t\d+ \| eq\(\$t\d+, \{1\}\)\}\]\)\}\)\}\]\)\)$/);
  });

  it("reads raw template strings over several lines, in v0 and v1 modules", () => {
    const src = "package p\nx := $`a\n{input.b}\\{c`\n";
    for (const m of [v0(src), v1(src)]) {
      assert.match(termString(m.rules[0].head.value!), /^internal\.template_string\(\["a\\n", \{\$t\d+ \| eq\(\$t\d+, input\.b\)\}, "\{c"\]\)$/);
    }
  });

  it("reports bad template strings at file:line:col", () => {
    assert.match(parseError(() => v1('package p\nx := $"abc\n')).message, /^t\.rego:2:6: rego_parse_error: non-terminated template string$/);
    assert.match(parseError(() => v1('package p\nx := $"a{input.b\n')).message, /^t\.rego:3:1: rego_parse_error: expected } to end template string expression$/);
    assert.match(parseError(() => v1('package p\nx := $"{y = 1}"\n')).message, /^t\.rego:2:9: rego_parse_error: unexpected unification \('='\) in template-string expression$/);
    assert.match(parseError(() => v1('package p\nx := $"{y := 1}"\n')).message, /^t\.rego:2:9: rego_parse_error: unexpected assignment \(':='\) in template-string expression$/);
    assert.match(parseError(() => v1('package p\nx := $"{not y}"\n')).message, /^t\.rego:2:9: rego_parse_error: unexpected negation \('not'\) in template-string expression$/);
    assert.match(parseError(() => v1('package p\nx := $"{some y in z}"\n')).message, /unexpected 'some' in template-string expression/);
    assert.match(parseError(() => v1('package p\nx := $"{1 2}"\n')).message, /^t\.rego:2:11: rego_parse_error: expected } to end template string expression$/);
    assert.match(parseError(() => v1('package p\nx := $"{}"\n')).message, /^t\.rego:2:9: rego_parse_error: unexpected eof token$/);
    assert.match(parseError(() => v1('package p\nx := $"\\q"\n')).message, /^t\.rego:2:8: rego_parse_error: invalid escape sequence \\q$/);
  });
});

describe("rego parser: errors", () => {
  it("reports file:line:col and what was found", () => {
    const e = parseError(() => v1("package p\n\np := \n"));
    assert.match(e.message, /^t\.rego:4:1: rego_parse_error: unexpected eof token$/);
    assert.match(parseError(() => v1("package p\np { true }\n")).message, /^t\.rego:2:3: rego_parse_error: `if` keyword is required before rule body$/);
    assert.match(parseError(() => v1('package p\nx := "abc\n')).message, /t\.rego:2:6: rego_parse_error: non-terminated string/);
    assert.match(parseError(() => v1("package p\nx := 1 +\n")).message, /t\.rego:3:1: rego_parse_error: unexpected eof token/);
    assert.match(parseError(() => v1("p := 1\n")).message, /t\.rego:1:1: rego_parse_error: package expected/);
    assert.match(parseError(() => v1("package p\nimport foo.bar\n")).message, /invalid import path/);
    assert.match(parseError(() => v1("package p\ndefault p := 1 if true\n")).message, /default rules must not have a body/);
  });
});

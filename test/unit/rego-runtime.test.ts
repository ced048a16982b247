// Unit tests for the OPA-ABI runtime (signatures-rego/runtime): values, JSON,
// ordering, numbers, builtins and the allocator, exercised through the
// runtime module's own exports (no policy, no corpus).

import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AbortError, runtimeHarness, type RuntimeHarness } from "./rego-helpers.ts";

let rt: RuntimeHarness;
before(async () => { rt = await runtimeHarness(); });

const rt_ = () => rt;
function roundTrip(text: string): string {
  const v = rt_().parse(text);
  assert.notEqual(v, 0, `parse failed: ${text}`);
  return rt_().dump(v);
}
const call = (name: string, ...args: string[]) => rt_().call(name, ...args);

describe("rego runtime: JSON", () => {
  it("round-trips scalars, arrays and objects with keys in sorted order", () => {
    assert.equal(roundTrip(' {"b": [1, true, null], "a": "x"} '), '{"a":"x","b":[1,true,null]}');
    assert.equal(roundTrip("[]"), "[]");
    assert.equal(roundTrip("{}"), "{}");
  });
  it("decodes escapes and re-escapes control characters", () => {
    assert.equal(roundTrip(String.raw`"a\"b\\c\/d\n\t\u0001"`), String.raw`"a\"b\\c/d\n\t\u0001"`);
    assert.equal(JSON.parse(roundTrip(String.raw`"\u00e9\u4e2d"`)), "é中");
  });
  it("joins surrogate pairs and replaces lone surrogates with U+FFFD", () => {
    assert.equal(JSON.parse(roundTrip(String.raw`"\ud83d\ude00"`)), "😀");
    assert.equal(JSON.parse(roundTrip(String.raw`"\ud83d x"`)), "\ufffd x");
    assert.equal(JSON.parse(roundTrip(String.raw`"\ude00"`)), "\ufffd");
  });
  it("passes raw UTF-8 through", () => {
    assert.equal(JSON.parse(roundTrip('"héllo 😀"')), "héllo 😀");
  });
  it("keeps numbers: integers, floats, big integers and out-of-range values", () => {
    assert.equal(roundTrip("[0, -7, 1.5, 2.0, 1e3, -0.25]"), "[0,-7,1.5,2,1000,-0.25]");
    assert.equal(roundTrip("123456789012345678901234567890"), "123456789012345678901234567890");
    assert.equal(roundTrip("1e400"), "1e400");
    assert.equal(roundTrip("9223372036854775807"), "9223372036854775807");
  });
  it("rejects invalid JSON with 0", () => {
    for (const bad of ["", "{", "[1,]", '{"a" 1}', "01", "1.", "tru", '"\u0001"', "[1] x", "{1: 2}", "'a'"]) {
      assert.equal(rt.parse(bad), 0, bad);
    }
  });
  it("last duplicate key wins", () => {
    assert.equal(roundTrip('{"a":1,"a":2}'), '{"a":2}');
  });
  it("dumps sets as sorted arrays, and as Rego literals in value_dump", () => {
    const v = rt.parse('{3, "a", 1, 1}', true);
    assert.equal(rt.dump(v), '[1,3,"a"]');
    assert.equal(rt.dump(v, true), '{1,3,"a"}');
    assert.equal(rt.dump(rt.parse("set()", true), true), "set()");
  });
  it("writes non-string object keys as JSON text", () => {
    assert.equal(rt.dump(rt.parse('{1: "a", [1]: "b"}', true)), '{"1":"a","[1]":"b"}');
  });
});

describe("rego runtime: ordering and equality", () => {
  it("sorts across types: null < boolean < number < string < array < object < set", () => {
    assert.equal(call("sort", '[{1}, {"a":1}, [1], "s", 2, true, null, false]'), '[null,false,true,2,"s",[1],{"a":1},[1]]');
  });
  it("compares numbers by value across representations", () => {
    assert.equal(call("equal", "1", "1.0"), "true");
    assert.equal(call("lt", "1.5", "2"), "true");
    assert.equal(call("neq", "28857836529306024611913", "28857836529306024611912"), "true");
    assert.equal(call("gt", "28857836529306024611913", "9223372036854775807"), "true");
    assert.equal(call("lt", "-28857836529306024611913", "-5"), "true");
  });
  it("compares strings bytewise, arrays and objects element by element", () => {
    assert.equal(call("lt", '"B"', '"a"'), "true");
    assert.equal(call("lt", "[1,2]", "[1,2,0]"), "true");
    assert.equal(call("lt", '{"a":1}', '{"a":2}'), "true");
    assert.equal(call("lt", '{"a":9}', '{"b":0}'), "true");
  });
  it("treats sets as sets and objects as unordered", () => {
    assert.equal(call("equal", "{1,2}", "{2,1}"), "true");
    assert.equal(call("equal", '{"a":1,"b":2}', '{"b":2,"a":1}'), "true");
    assert.equal(call("count", "{1,1,2}"), "2");
  });
});

describe("rego runtime: numbers", () => {
  it("uses 64-bit integers and falls back to doubles on overflow", () => {
    assert.equal(call("plus", "1", "2"), "3");
    assert.equal(Number(call("plus", "9223372036854775807", "1")), 2 ** 63);
    assert.equal(call("mul", "4611686018427387904", "4"), "18446744073709552000");
    assert.equal(call("minus", "0.5", "0.25"), "0.25");
  });
  it("divides exactly when possible and rejects division by zero", () => {
    assert.equal(call("div", "6", "3"), "2");
    assert.equal(call("div", "1", "4"), "0.25");
    assert.equal(call("div", "1", "0"), undefined);
    assert.equal(call("rem", "7", "-3"), "1");
    assert.equal(call("rem", "-7", "3"), "-1");
    assert.equal(call("rem", "1", "0"), undefined);
  });
  it("rounds half away from zero; ceil, floor and abs", () => {
    assert.equal(call("round", "2.5"), "3");
    assert.equal(call("round", "-2.5"), "-3");
    assert.equal(call("ceil", "1.1"), "2");
    assert.equal(call("floor", "-1.1"), "-2");
    assert.equal(call("abs", "-4"), "4");
  });
  it("implements bits.* and numbers.range", () => {
    assert.equal(call("bits.and", "12", "10"), "8");
    assert.equal(call("bits.or", "12", "10"), "14");
    assert.equal(call("bits.xor", "12", "10"), "6");
    assert.equal(call("bits.negate", "0"), "-1");
    assert.equal(call("bits.lsh", "1", "4"), "16");
    assert.equal(call("bits.rsh", "-16", "2"), "-4");
    assert.equal(call("numbers.range", "3", "1"), "[3,2,1]");
    assert.equal(call("numbers.range", "1.5", "3"), undefined);
  });
  it("converts with to_number and format_int", () => {
    assert.equal(call("to_number", '"-1.5e1"'), "-15");
    assert.equal(call("to_number", "true"), "1");
    assert.equal(call("to_number", "null"), "0");
    assert.equal(call("to_number", '"x"'), undefined);
    assert.equal(call("format_int", "255", "16"), '"ff"');
    assert.equal(call("format_int", "-15.9", "2"), '"-1111"');
    assert.equal(call("format_int", "1", "3"), undefined);
  });
});

describe("rego runtime: string builtins", () => {
  it("counts, indexes and slices by code point", () => {
    assert.equal(call("count", '"héllo"'), "5");
    assert.equal(call("indexof", '"héllo"', '"l"'), "2");
    assert.equal(call("indexof", '"abc"', '"z"'), "-1");
    assert.equal(call("substring", '"héllo"', "1", "3"), '"éll"');
    assert.equal(call("substring", '"abc"', "1", "-1"), '"bc"');
    assert.equal(call("substring", '"abc"', "5", "1"), '""');
    assert.equal(call("substring", '"abc"', "-1", "1"), undefined);
  });
  it("tests prefixes, suffixes and containment", () => {
    assert.equal(call("startswith", '"/proc/self"', '"/proc"'), "true");
    assert.equal(call("endswith", '"a.txt"', '".json"'), "false");
    assert.equal(call("contains", '"abc"', '""'), "true");
    assert.equal(call("startswith", "1", '"a"'), undefined);
  });
  it("changes case including non-ASCII letters", () => {
    assert.equal(call("upper", '"aBc é"'), '"ABC É"');
    assert.equal(call("lower", '"ÀÉ ΣΑ"'), '"àé σα"');
  });
  it("splits, concatenates and replaces", () => {
    assert.equal(call("split", '"a,b,,c"', '","'), '["a","b","","c"]');
    assert.equal(call("split", '"hé"', '""'), '["h","é"]');
    assert.equal(call("concat", '"-"', '["a","b"]'), '"a-b"');
    assert.equal(call("concat", '"-"', '{"b","a"}'), '"a-b"');
    assert.equal(call("replace", '"aaa"', '"a"', '"b"'), '"bbb"');
    assert.equal(call("replace", '"ab"', '""', '"-"'), '"-a-b-"');
    assert.equal(call("strings.replace_n", '{"a":"1","b":"2"}', '"abc"'), '"12c"');
  });
  it("trims cutsets, prefixes, suffixes and space", () => {
    assert.equal(call("trim", '"xxhixx"', '"x"'), '"hi"');
    assert.equal(call("trim_left", '"xxhix"', '"x"'), '"hix"');
    assert.equal(call("trim_right", '"xhixx"', '"x"'), '"xhi"');
    assert.equal(call("trim_prefix", '"prefix"', '"pre"'), '"fix"');
    assert.equal(call("trim_suffix", '"prefix"', '"fix"'), '"pre"');
    assert.equal(call("trim_space", '" \\t hi \\n"'), '"hi"');
  });
  it("renders template-string parts: text as it is, values as OPA prints them, empty sets as <undefined>", () => {
    assert.equal(call("internal.template_string", '[]'), '""');
    assert.equal(call("internal.template_string", '["a ", 42, " ", 4.5, " ", false, " ", null]'), '"a 42 4.5 false null"');
    assert.equal(call("internal.template_string", '[{"x"}, "|", set(), "|", {[1, "s", {"k": set()}]}, "|", {{2, 1}}]'),
      '"x|<undefined>|[1, \\"s\\", {\\"k\\": set()}]|{1, 2}"');
    // an expression with several values is an error (undefined, as builtin errors are)
    assert.equal(call("internal.template_string", '["a", {1, 2}]'), undefined);
    assert.equal(call("internal.template_string", '"a"'), undefined);
  });
});

describe("rego runtime: regex and glob", () => {
  it("matches RE2 syntax with leftmost-first semantics", () => {
    assert.equal(call("regex.match", '"/proc/(?:\\\\d.+|self)/mem"', '"/proc/self/mem"'), "true");
    assert.equal(call("regex.match", '"/proc/(?:\\\\d.+|self)/mem"', '"/proc/12/mem"'), "true");
    assert.equal(call("regex.match", '"/proc/(?:\\\\d.+|self)/mem"', '"/proc/x/mem"'), "false");
    assert.equal(call("regex.match", '"^a[b-d]{2,3}$"', '"abcd"'), "true");
    assert.equal(call("regex.match", '"(?i)HELLO"', '"hello"'), "true");
    assert.equal(call("regex.match", '"^\\\\w+@\\\\w+\\\\.com$"', '"me@x.com"'), "true");
    assert.equal(call("re_match", '"^$"', '""'), "true");
  });
  it("rejects invalid patterns", () => {
    assert.equal(call("regex.is_valid", '"a(b"'), "false");
    assert.equal(call("regex.is_valid", '"a**"'), "false");
    assert.equal(call("regex.is_valid", '"[[:alpha:]]+"'), "true");
    assert.equal(call("regex.match", '"a(b"', '"ab"'), undefined);
  });
  it("finds all submatches like Go", () => {
    assert.equal(call("regex.find_all_string_submatch_n", '"a(x*)b"', '"-ab-axxb-"', "-1"), '[["ab",""],["axxb","xx"]]');
    assert.equal(call("regex.find_all_string_submatch_n", '"a*"', '"baaab"', "-1"), '[[""],["aaa"],[""]]');
    assert.equal(call("regex.find_all_string_submatch_n", '"\\\\d"', '"1 2 3"', "2"), '[["1"],["2"]]');
  });
  it("does not blow up on pathological patterns", () => {
    const t0 = Date.now();
    assert.equal(call("regex.match", '"^(a+)+$"', JSON.stringify("a".repeat(40) + "!")), "false");
    assert.ok(Date.now() - t0 < 1000);
  });
  it("globs with delimiters, super-stars, classes and alternatives", () => {
    assert.equal(call("glob.match", '"*.github.com"', "[]", '"api.github.com"'), "true");
    assert.equal(call("glob.match", '"*.github.com"', "[]", '"a.b.github.com"'), "false");
    assert.equal(call("glob.match", '"**.github.com"', "[]", '"a.b.github.com"'), "true");
    assert.equal(call("glob.match", '"*/x"', "null", '"a.b/x"'), "true");
    assert.equal(call("glob.match", '"[a-c]?{x,yz}"', '["."]', '"b9yz"'), "true");
  });
});

describe("rego runtime: collections, encodings and networks", () => {
  it("implements set operators and aggregates", () => {
    assert.equal(call("and", "{1,2,3}", "{2,3,4}"), "[2,3]");
    assert.equal(call("or", "{1}", "{2}"), "[1,2]");
    assert.equal(call("minus", "{1,2}", "{2}"), "[1]");
    assert.equal(call("union", "{{1},{2}}"), "[1,2]");
    assert.equal(call("intersection", "{{1,2},{2,3}}"), "[2]");
    assert.equal(call("sum", "[1,2.5]"), "3.5");
    assert.equal(call("product", "{2,3}"), "6");
    assert.equal(call("max", "[]"), undefined);
    assert.equal(call("min", '[3,"a",1]'), "1");
    assert.equal(call("all", "[true,1]"), "false");
    assert.equal(call("any", "{false,true}"), "true");
    assert.equal(call("internal.member_2", "2", "[1,2]"), "true");
    assert.equal(call("internal.member_3", '"a"', "1", '{"a":1}'), "true");
  });
  it("implements object and array builtins", () => {
    assert.equal(call("object.get", '{"a":{"b":1}}', '["a","b"]', "0"), "1");
    assert.equal(call("object.get", '{"a":1}', '"z"', '"d"'), '"d"');
    assert.equal(call("object.remove", '{"a":1,"b":2}', '["a"]'), '{"b":2}');
    assert.equal(call("object.filter", '{"a":1,"b":2}', '{"a"}'), '{"a":1}');
    assert.equal(call("object.union", '{"a":{"x":1},"b":1}', '{"a":{"y":2},"b":2}'), '{"a":{"x":1,"y":2},"b":2}');
    assert.equal(call("json.filter", '{"a":{"b":1,"c":2},"d":3}', '["a/b"]'), '{"a":{"b":1}}');
    assert.equal(call("json.remove", '{"a":{"b":1,"c":2},"d":3}', '["a/b", ["d"]]'), '{"a":{"c":2}}');
    assert.equal(call("array.concat", "[1]", "[2]"), "[1,2]");
    assert.equal(call("array.slice", "[1,2,3]", "-1", "2"), "[1,2]");
    assert.equal(call("walk", "[7]"), "[[[],[7]],[[0],7]]");
    assert.equal(call("graph.reachable", '{"a":["b"],"b":["c"],"c":[],"d":["a"]}', '["a"]'), '["a","b","c"]');
    assert.equal(call("type_name", "{1}"), '"set"');
    assert.equal(call("is_string", "1"), "false");
  });
  it("encodes and decodes base64 and JSON", () => {
    assert.equal(call("base64.encode", '"hello"'), '"aGVsbG8="');
    assert.equal(call("base64.decode", '"aGVsbG8="'), '"hello"');
    assert.equal(call("base64.decode", '"aGVsbG8"'), undefined);
    assert.equal(call("base64.is_valid", '"!!"'), "false");
    assert.equal(call("base64url.encode", '"\\u00ff\\u00fe"'), '"w7_Dvg=="');
    assert.equal(call("base64url.decode", '"aGVsbG8"'), '"hello"');
    assert.equal(call("json.marshal", '{"b":[1,{2}],"a":"<&>"}'), JSON.stringify('{"a":"\\u003c\\u0026\\u003e","b":[1,[2]]}'));
    assert.equal(call("json.unmarshal", '"{\\"a\\":[1]}"'), '{"a":[1]}');
    assert.equal(call("json.unmarshal", '"{"'), undefined);
  });
  it("matches IPv4 and IPv6 CIDRs", () => {
    assert.equal(call("net.cidr_contains", '"10.0.0.0/8"', '"10.1.2.3"'), "true");
    assert.equal(call("net.cidr_contains", '"10.0.0.0/8"', '"11.0.0.0/24"'), "false");
    assert.equal(call("net.cidr_contains", '"2001:db8::/32"', '"2001:db8:1::1"'), "true");
    assert.equal(call("net.cidr_intersects", '"192.168.0.0/16"', '"192.168.1.0/24"'), "true");
    assert.equal(call("net.cidr_contains", '"bad"', '"10.0.0.1"'), undefined);
  });
});

describe("rego runtime: allocator", () => {
  it("allocates 8-byte aligned memory and rewinds with opa_heap_ptr_set", () => {
    const x = rt.exports;
    const start = x.opa_heap_ptr_get();
    const a = x.opa_malloc(3), b = x.opa_malloc(5);
    assert.equal(a % 8, 0);
    assert.equal(b % 8, 0);
    assert.ok(b >= a + 3);
    x.opa_heap_ptr_set(start);
    assert.equal(x.opa_malloc(3), a);
  });
  it("grows memory on demand", () => {
    const before = rt.memory.buffer.byteLength;
    const p = rt.exports.opa_malloc(5 * 65536);
    assert.ok(rt.memory.buffer.byteLength >= p + 5 * 65536);
    assert.ok(rt.memory.buffer.byteLength > before);
  });
  it("aborts with exactly 'opa_malloc: failed' when memory cannot grow", async () => {
    const small = await runtimeHarness({ maxPages: 4 });
    assert.throws(() => small.exports.opa_malloc(10 * 65536), (e: unknown) => e instanceof AbortError && e.message === "opa_malloc: failed");
  });
});

// Parses the JSON-like Rego terms used as `input_term` in OPA's corpus:
// JSON plus trailing commas, set literals ({1, 2} and set(), returned as
// sorted arrays, which is how the SDK would see them) and object keys that
// are not strings (returned as their JSON text).

export class TermParseError extends Error {}

export function parseRegoTerm(text: string): unknown {
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const fail = (msg: string): never => { throw new TermParseError(`${msg} at ${i}: ${text.slice(i, i + 20)}`); };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++; ws();
      if (text[i] === "}") { i++; return {}; }
      const first = value(); ws();
      if (text[i] === ":") {
        const obj: Record<string, unknown> = {};
        let key = first;
        for (;;) {
          if (text[i] !== ":") fail("expected :");
          i++;
          obj[typeof key === "string" ? key : JSON.stringify(key)] = value(); ws();
          if (text[i] === ",") { i++; ws(); if (text[i] === "}") { i++; return obj; } key = value(); ws(); continue; }
          if (text[i] === "}") { i++; return obj; }
          fail("expected , or }");
        }
      }
      const items = [first];
      while (text[i] === ",") { i++; ws(); if (text[i] === "}") break; items.push(value()); ws(); }
      if (text[i] !== "}") fail("expected }");
      i++;
      return items;
    }
    if (c === "[") {
      i++; ws();
      const items: unknown[] = [];
      if (text[i] === "]") { i++; return items; }
      for (;;) {
        items.push(value()); ws();
        if (text[i] === ",") { i++; ws(); if (text[i] === "]") { i++; return items; } continue; }
        if (text[i] === "]") { i++; return items; }
        fail("expected , or ]");
      }
    }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1));
      i = j + 1;
      return s;
    }
    if (text.startsWith("set()", i)) { i += 5; return []; }
    const m = /^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(i));
    if (!m) return fail("unexpected token");
    i += m[0].length;
    return JSON.parse(m[0]);
  };
  const v = value();
  ws();
  if (i !== text.length) fail("trailing text");
  return v;
}

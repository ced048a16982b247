// Human-readable dump of an IR plan (for debugging and `--print-plan`).

import type { Block, Operand, Policy, Stmt } from "../plan.ts";

export function printPolicy(p: Policy): string {
  const strings = (p.static.strings ?? []).map((s) => s.value);
  const op = (o: Operand): string =>
    o.type === "local" ? `%${o.value}` : o.type === "bool" ? String(o.value) : JSON.stringify(strings[o.value]);
  const out: string[] = [];
  const blocks = (bs: Block[], ind: string) => bs.forEach((b, i) => {
    out.push(`${ind}block ${i}:`);
    for (const s of b.stmts ?? []) stmt(s, ind + "  ");
  });
  const stmt = (s: Stmt, ind: string) => {
    const st = s.stmt;
    const rest = Object.entries(st).filter(([k]) => !["file", "row", "col", "block", "blocks"].includes(k))
      .map(([k, v]) => `${k}=${typeof v === "object" && v && "type" in v ? op(v as Operand) : Array.isArray(v) ? "[" + v.map((x) => typeof x === "object" ? op(x) : x).join(",") + "]" : k === "Index" ? JSON.stringify(strings[v as number]) : v}`);
    out.push(`${ind}${s.type.replace(/Stmt$/, "")} ${rest.join(" ")}`);
    if (st.block) blocks([st.block], ind + "  ");
    if (st.blocks) blocks(st.blocks, ind + "  ");
  };
  for (const f of p.funcs?.funcs ?? []) {
    out.push(`func ${f.name}(${f.params.map((x) => "%" + x).join(", ")}) → %${f.return}`);
    blocks(f.blocks, "  ");
  }
  for (const pl of p.plans.plans ?? []) {
    out.push(`plan ${pl.name}`);
    blocks(pl.blocks, "  ");
  }
  return out.join("\n");
}

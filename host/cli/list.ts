/** The listings both CLIs print: signatures, the events they need, the catalogue. */
import { EVENTS } from '../events/catalogue.ts';
import type { Bundle } from '../engine/bundle.ts';

export function signatureTable(bundles: readonly Bundle[]): string {
  const rows = [['ID', 'NAME', 'VERSION', 'DESCRIPTION'], ...bundles.map((b) => [b.metadata.id, b.metadata.name, b.metadata.version, b.metadata.description])];
  return table(rows);
}

/** Sorted, comma-joined, as tracee-rules --list-events prints them. */
export function selectedEventList(bundles: readonly Bundle[]): string {
  const names = new Set(bundles.flatMap((b) => b.metadata.selectedEvents.map((s) => s.name)));
  return [...names].sort().join(',') + '\n';
}

export function eventTable(): string {
  const rows = [['ID', 'EVENT', 'SETS', 'ARGUMENTS'], ...EVENTS.map((e) => [String(e.id), e.name, e.sets.join(','), e.args.map((a) => `${a.type} ${a.name}`).join(', ')])];
  return table(rows);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

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

/**
 * What this kernel can capture: `unavailable` maps event names to the reason
 * they cannot be captured here. `known: false` when the capture side could
 * not say (every event is then listed with availability "?").
 */
export interface EventAvailability {
  known: boolean;
  unavailable: ReadonlyMap<string, string>;
}

/** The catalogue: id, name, sets, availability on this kernel, arguments; then the reasons. */
export function eventTable(availability: EventAvailability = { known: false, unavailable: new Map() }): string {
  const state = (name: string) => (!availability.known ? '?' : availability.unavailable.has(name) ? 'no' : 'yes');
  const rows = [['ID', 'EVENT', 'SETS', 'AVAILABLE', 'ARGUMENTS'],
    ...EVENTS.map((e) => [String(e.id), e.name, e.sets.join(','), state(e.name), e.args.map((a) => `${a.type} ${a.name}`).join(', ')])];
  let out = table(rows);
  if (!availability.known) {
    out += '\nAvailability on this kernel: unknown (the capture addon does not report it; run as root with the addon built).\n';
  } else if (availability.unavailable.size) {
    out += '\nUnavailable on this kernel:\n';
    for (const [name, reason] of [...availability.unavailable].sort(([a], [b]) => a.localeCompare(b))) out += `  ${name}: ${reason}\n`;
  }
  return out;
}

/** The events the loaded signatures produce, and the events each needs. */
export function signatureEventTable(bundles: readonly Bundle[]): string {
  const rows = [['EVENT', 'SIGNATURE', 'NEEDS'], ...bundles.map((b) => [b.metadata.eventName, b.metadata.id,
    [...new Set(b.metadata.selectedEvents.map((s) => (s.origin === '*' ? s.name : `${s.name} (${s.origin})`)))].join(', ')])];
  return table(rows);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

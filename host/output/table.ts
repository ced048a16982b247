/**
 * What the table printers share: column layout, Tracee's time format, and
 * the container columns shown in container filtering mode (`--scope
 * container`), as Tracee's table printer does.
 */
import type { TraceeEvent } from '../events/event-json.ts';

export type Columns = ReadonlyArray<readonly [title: string, width: number]>;

/** CONTAINER_ID and IMAGE, inserted after TIME in container mode. */
const CONTAINER_COLUMNS: Columns = [['CONTAINER_ID', 13], ['IMAGE', 24]];

export class TableLayout {
  readonly columns: Columns;

  constructor(columns: Columns, private readonly containers: boolean) {
    this.columns = containers ? [columns[0], ...CONTAINER_COLUMNS, ...columns.slice(1)] : columns;
  }

  header(): string {
    return this.row(this.columns.map(([t]) => t));
  }

  /** A row from the event (time, container columns) and the printer's other cells. */
  eventRow(e: TraceeEvent, rest: string[]): string {
    const container = this.containers ? [e.containerId.slice(0, 12), e.container.image || (e.containerId ? '' : 'host')] : [];
    return this.row([clock(e.timestamp), ...container, ...rest]);
  }

  private row(cells: string[]): string {
    return cells.map((c, i) => (this.columns[i][1] ? c.padEnd(this.columns[i][1]) : c)).join(' ').trimEnd() + '\n';
  }
}

/** HH:MM:SS.uuuuuu of an epoch-ns timestamp, as Tracee's table printer shows. */
export function clock(ns: bigint): string {
  const d = new Date(Number(ns / 1_000_000n));
  const micros = String((ns / 1000n) % 1_000_000n).padStart(6, '0');
  return `${d.toISOString().slice(11, 19)}.${micros}`;
}

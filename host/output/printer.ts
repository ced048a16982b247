/**
 * Finding printers for stdout: `table` (default) and `json` (one finding per
 * line, tracee-rules' rawjson shape).
 */
import { stringifyJson } from '../events/event-json.ts';
import type { DecodeOptions } from '../events/batch-reader.ts';
import type { Finding } from '../engine/finding.ts';
import { findingContext, findingToJson } from './finding-json.ts';
import { InvalidArgumentError } from '../errors.ts';

export type OutputFormat = 'table' | 'json';

export interface Printer {
  print(findings: readonly Finding[]): void;
}

type Write = (text: string) => void;

export function parseOutputFormat(format: string): OutputFormat {
  if (format === 'json' || format === 'table') return format;
  throw new InvalidArgumentError(`--output ${format}: unknown format (use table or json)`);
}

export function createPrinter(format: OutputFormat, write: Write, options: DecodeOptions = {}): Printer {
  if (format === 'json') return { print: (fs) => { for (const f of fs) write(stringifyJson(findingToJson(f, options)) + '\n'); } };
  return new TablePrinter(write, options);
}

const COLUMNS: ReadonlyArray<[title: string, width: number]> = [
  ['TIME', 18], ['UID', 6], ['COMM', 16], ['PID', 7], ['TID', 7], ['SIGNATURE', 10], ['SEVERITY', 8], ['EVENT', 24], ['DATA', 0],
];

class TablePrinter implements Printer {
  private headerDone = false;
  constructor(private readonly write: Write, private readonly options: DecodeOptions) {}

  print(findings: readonly Finding[]): void {
    if (findings.length === 0) return;
    if (!this.headerDone) {
      this.write(row(COLUMNS.map(([t]) => t)));
      this.headerDone = true;
    }
    for (const f of findings) {
      const e = findingContext(f, this.options);
      this.write(row([clock(e.timestamp), String(e.userId), e.processName, String(e.processId), String(e.threadId),
        f.signature.id, String(f.signature.properties.Severity ?? ''), f.signature.eventName, dataText(f)]));
    }
  }
}

function row(cells: string[]): string {
  return cells.map((c, i) => (COLUMNS[i][1] ? c.padEnd(COLUMNS[i][1]) : c)).join(' ').trimEnd() + '\n';
}

/** HH:MM:SS.uuuuuu of an epoch-ns timestamp, as Tracee's table printer shows. */
function clock(ns: bigint): string {
  const d = new Date(Number(ns / 1_000_000n));
  const micros = String((ns / 1000n) % 1_000_000n).padStart(6, '0');
  return `${d.toISOString().slice(11, 19)}.${micros}`;
}

function dataText(f: Finding): string {
  return Object.entries(f.data).map(([k, v]) => `${k}: ${v instanceof Uint8Array ? Buffer.from(v).toString('base64') : String(v)}`).join(', ');
}

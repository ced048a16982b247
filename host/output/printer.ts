/**
 * Finding printers for stdout: `table` (default) and `json` (one finding per
 * line, tracee-rules' rawjson shape).
 */
import { stringifyJson } from '../events/event-json.ts';
import type { DecodeOptions } from '../events/batch-reader.ts';
import type { Finding } from '../engine/finding.ts';
import { findingContext, findingToJson } from './finding-json.ts';
import { InvalidArgumentError } from '../errors.ts';
import { TableLayout, type Columns } from './table.ts';

export type OutputFormat = 'table' | 'json';

export interface Printer {
  print(findings: readonly Finding[]): void;
}

type Write = (text: string) => void;

export function parseOutputFormat(format: string): OutputFormat {
  if (format === 'json' || format === 'table') return format;
  throw new InvalidArgumentError(`--output ${format}: unknown format (use table or json)`);
}

/** `containers`: container filtering mode; the table shows each event's container and image. */
export function createPrinter(format: OutputFormat, write: Write, options: DecodeOptions = {}, containers = false): Printer {
  if (format === 'json') return { print: (fs) => { for (const f of fs) write(stringifyJson(findingToJson(f, options)) + '\n'); } };
  return new TablePrinter(write, options, new TableLayout(COLUMNS, containers));
}

const COLUMNS: Columns = [
  ['TIME', 18], ['UID', 6], ['COMM', 16], ['PID', 7], ['TID', 7], ['SIGNATURE', 10], ['SEVERITY', 8], ['EVENT', 24], ['DATA', 0],
];

class TablePrinter implements Printer {
  private headerDone = false;
  constructor(private readonly write: Write, private readonly options: DecodeOptions, private readonly layout: TableLayout) {}

  print(findings: readonly Finding[]): void {
    if (findings.length === 0) return;
    if (!this.headerDone) {
      this.write(this.layout.header());
      this.headerDone = true;
    }
    for (const f of findings) {
      const e = findingContext(f, this.options);
      this.write(this.layout.eventRow(e, [String(e.userId), e.processName, String(e.processId), String(e.threadId),
        f.signature.id, String(f.signature.properties.Severity ?? ''), f.signature.eventName, dataText(f)]));
    }
  }
}

function dataText(f: Finding): string {
  return Object.entries(f.data).map(([k, v]) => `${k}: ${v instanceof Uint8Array ? Buffer.from(v).toString('base64') : String(v)}`).join(', ');
}

/**
 * Output when policies select events as well as detections (Tracee prints
 * both): `json` prints each event as Tracee's event JSON with the names of
 * the policies it matched in `matchedPolicies`, and each detection in
 * tracee-rules' rawjson shape with those names in `Context.matchedPolicies`;
 * `table` prints one row per event, `TIME UID COMM PID TID RET EVENT ARGS`,
 * detections included (EVENT is the signature's event name). Without
 * printed events (detections only), the table is the findings table of
 * printer.ts. Events are decoded only here, when printed.
 */
import { decodeEvent, readBatchHeader, type DecodeOptions } from '../events/batch-reader.ts';
import { stringifyJson, type TraceeEvent } from '../events/event-json.ts';
import { findingContext, findingToJson } from './finding-json.ts';
import { createPrinter, type OutputFormat } from './printer.ts';
import { TableLayout, type Columns } from './table.ts';
import type { Finding } from '../engine/finding.ts';

export interface EventPrinter {
  /** Prints records of `batch` (by offset) with the policies each matched. */
  printEvents(batch: Uint8Array, items: ReadonlyArray<readonly [offset: number, policies: string[]]>): void;
  /** Prints detections with the policies each is reported for. */
  printFindings(items: ReadonlyArray<readonly [finding: Finding, policies: string[]]>): void;
}

type Write = (text: string) => void;

export interface EventPrinterMode {
  /** Policies select events to print (not only detections): the table gets the event columns. */
  events: boolean;
  /** Container filtering mode: the table shows each event's container and image. */
  containers?: boolean;
}

/** Told about a record that cannot be decoded (it is skipped; the others print). */
export type DecodeErrorSink = (err: Error) => void;

export function createEventPrinter(format: OutputFormat, write: Write, options: DecodeOptions, mode: EventPrinterMode,
  onError: DecodeErrorSink = (err) => { throw err; }): EventPrinter {
  if (format === 'json') return new JsonEventPrinter(write, options, onError);
  if (!mode.events) {
    const findings = createPrinter('table', write, options, mode.containers);
    return {
      printEvents: () => {},
      printFindings: (items) => findings.print(items.map(([f]) => f)),
    };
  }
  return new TableEventPrinter(write, options, onError, new TableLayout(COLUMNS, mode.containers ?? false));
}

/** Decodes one record, or reports it and returns undefined. */
function decodeOrReport(batch: Uint8Array, offset: number, header: ReturnType<typeof readBatchHeader>, options: DecodeOptions, onError: DecodeErrorSink): TraceeEvent | undefined {
  try {
    return decodeEvent(batch, offset, header, options);
  } catch (err) {
    onError(err as Error);
    return undefined;
  }
}

class JsonEventPrinter implements EventPrinter {
  constructor(private readonly write: Write, private readonly options: DecodeOptions, private readonly onError: DecodeErrorSink) {}

  printEvents(batch: Uint8Array, items: ReadonlyArray<readonly [number, string[]]>): void {
    if (items.length === 0) return;
    const header = readBatchHeader(batch);
    let out = '';
    for (const [offset, policies] of items) {
      const e = decodeOrReport(batch, offset, header, this.options, this.onError);
      if (!e) continue;
      e.matchedPolicies = policies;
      out += stringifyJson(e) + '\n';
    }
    this.write(out);
  }

  printFindings(items: ReadonlyArray<readonly [Finding, string[]]>): void {
    for (const [f, policies] of items) {
      let json;
      try {
        json = findingToJson(f, this.options);
      } catch (err) {
        this.onError(err as Error);
        continue;
      }
      json.Context.matchedPolicies = policies;
      this.write(stringifyJson(json) + '\n');
    }
  }
}

const COLUMNS: Columns = [
  ['TIME', 18], ['UID', 6], ['COMM', 16], ['PID', 7], ['TID', 7], ['RET', 6], ['EVENT', 24], ['ARGS', 0],
];

class TableEventPrinter implements EventPrinter {
  private headerDone = false;
  constructor(private readonly write: Write, private readonly options: DecodeOptions, private readonly onError: DecodeErrorSink,
    private readonly layout: TableLayout) {}

  printEvents(batch: Uint8Array, items: ReadonlyArray<readonly [number, string[]]>): void {
    if (items.length === 0) return;
    const header = readBatchHeader(batch);
    let out = this.header();
    for (const [offset] of items) {
      const e = decodeOrReport(batch, offset, header, this.options, this.onError);
      if (!e) continue;
      out += this.row(e, e.eventName, e.args.map((a) => `${a.name}: ${formatValue(a.value)}`).join(', '));
    }
    this.write(out);
  }

  printFindings(items: ReadonlyArray<readonly [Finding, string[]]>): void {
    if (items.length === 0) return;
    let out = this.header();
    for (const [f] of items) {
      let e: TraceeEvent;
      try {
        e = findingContext(f, this.options);
      } catch (err) {
        this.onError(err as Error);
        continue;
      }
      const severity = f.signature.properties.Severity;
      const data = Object.entries(f.data).map(([k, v]) => `${k}: ${formatValue(v)}`);
      const args = [`signature: ${f.signature.id}`, ...(severity !== undefined ? [`severity: ${severity}`] : []), ...data].join(', ');
      out += this.row(e, f.signature.eventName, args);
    }
    this.write(out);
  }

  private header(): string {
    if (this.headerDone) return '';
    this.headerDone = true;
    return this.layout.header();
  }

  private row(e: TraceeEvent, event: string, args: string): string {
    return this.layout.eventRow(e, [String(e.userId), e.processName, String(e.processId), String(e.threadId), String(e.returnValue), event, args]);
  }
}

/** Values as Tracee's table shows them (Go's %v): lists in brackets, maps as map[k:v]. */
export function formatValue(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (v !== null && typeof v === 'object') return `map[${Object.entries(v).map(([k, x]) => `${k}:${formatValue(x)}`).join(' ')}]`;
  return String(v);
}

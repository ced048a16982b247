/**
 * Option parsing shared by `tracee` and `tracee-rules`: values are validated
 * here and rejected with the flag and the bad value.
 */
import { InvalidArgumentError } from '../errors.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_RULES_DIR = join(PACKAGE_ROOT, 'bundles');

/** Collects repeatable flags; commas also separate values, as in Tracee. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

/** Collects repeatable flags as given: `--scope` and `--events` split commas themselves (values vs names). */
export function collectRaw(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export type OutputFormatName = 'table' | 'json';

export interface OutputOptions {
  format: OutputFormatName;
  /** option:parse-arguments: flags, requests and modes as names. */
  parseArguments: boolean;
  /** option:exec-env: record the environment of executions. */
  execEnv: boolean;
  /** gotemplate=FILE: detections rendered with this Go template (events still print as JSON). */
  template?: string;
  /** webhook:URL[?gotemplate=FILE&contentType=TYPE&timeout=5s]: Tracee's webhook destination. */
  webhook?: WebhookDestination;
}

export interface WebhookDestination {
  url: string;
  template?: string;
  contentType?: string;
  timeoutMs?: number;
}

/** Tracee's `-o webhook:URL` with its gotemplate, contentType and timeout query parameters (removed from the URL). */
export function parseWebhookDestination(value: string): WebhookDestination {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`--output webhook:${value}: not a URL`);
  }
  const take = (name: string) => {
    const v = url.searchParams.get(name) ?? undefined;
    url.searchParams.delete(name);
    return v;
  };
  const template = take('gotemplate');
  const contentType = take('contentType');
  const timeout = take('timeout');
  let timeoutMs: number | undefined;
  if (timeout !== undefined) {
    const m = /^(\d+)(ms|s)?$/.exec(timeout);
    if (!m) throw new InvalidArgumentError(`--output webhook:${value}: timeout=${timeout}: expected e.g. 5s or 500ms`);
    timeoutMs = Number(m[1]) * (m[2] === 'ms' ? 1 : 1000);
  }
  return { url: url.toString(), template, contentType, timeoutMs };
}

const OUTPUT_HELP = 'table, json, gotemplate=FILE, webhook:URL, format:table, format:json, option:parse-arguments, option:exec-env';

/** Parses tracee's repeatable `-o/--output` (`json`, `format:json`, `option:parse-arguments`, ...). */
export function parseOutputOptions(values: readonly string[]): OutputOptions {
  const out: OutputOptions = { format: 'table', parseArguments: false, execEnv: false };
  let format: string | undefined;
  for (const raw of values) {
    const value = raw.trim();
    const [key, ...rest] = value.split(':');
    const arg = rest.join(':');
    const template = /^(?:format:)?gotemplate=(.+)$/.exec(value);
    if (key === 'webhook') {
      out.webhook = parseWebhookDestination(arg);
    } else if (template) {
      out.template = template[1];
      if (format === undefined) format = 'json';
    } else if (rest.length === 0 || key === 'format') {
      const f = rest.length === 0 ? key : arg;
      if (f !== 'table' && f !== 'json') throw new InvalidArgumentError(`--output ${value}: unknown format "${f}" (allowed: ${OUTPUT_HELP})`);
      if (format !== undefined && format !== f) throw new InvalidArgumentError(`--output ${value}: the format is already ${format}; give one format`);
      format = f;
    } else if (key === 'option') {
      if (arg === 'parse-arguments') out.parseArguments = true;
      else if (arg === 'exec-env') out.execEnv = true;
      else throw new InvalidArgumentError(`--output ${value}: unknown option "${arg}" (allowed: option:parse-arguments, option:exec-env)`);
    } else {
      throw new InvalidArgumentError(`--output ${value}: expected a format or option:NAME (allowed: ${OUTPUT_HELP})`);
    }
  }
  if (format === 'json' || format === 'table') out.format = format;
  return out;
}

export interface InputTracee {
  file: string;
  format: 'json';
}

/** Parses tracee-rules' `--input-tracee file:PATH --input-tracee format:json`. */
export function parseInputTracee(values: string[]): InputTracee | 'help' {
  if (values.includes('help')) return 'help';
  let file: string | undefined;
  let format = 'json';
  for (const v of values) {
    const [key, ...rest] = v.split(':');
    const val = rest.join(':');
    if (key === 'file' && val) file = val;
    else if (key === 'format' && val) format = val.toLowerCase();
    else throw new InvalidArgumentError(`--input-tracee ${v}: expected file:PATH or format:json`);
  }
  if (!file) throw new InvalidArgumentError('--input-tracee: missing file:PATH (PATH may be stdin)');
  if (format !== 'json') throw new InvalidArgumentError(`--input-tracee format:${format}: only json is supported`);
  return { file, format: 'json' };
}

export const INPUT_TRACEE_HELP = `tracee-rules --input-tracee <key:value>,<key:value> --input-tracee <key:value>

Select the input of tracee-rules: recorded events in Tracee's JSON format, one per line.

  file:PATH     read events from PATH, or from standard input with file:stdin
  format:json   the only supported format

Example:
  tracee-ebpf -o format:json -o option:parse-arguments | tracee-rules --input-tracee file:stdin --input-tracee format:json
`;

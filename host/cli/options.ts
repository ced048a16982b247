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

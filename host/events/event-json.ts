/**
 * Tracee's event JSON (`trace.Event`, v0.23+ field names): the shape we print
 * and the shape recorded events are read in. 64-bit values (timestamps,
 * cgroup ids, inodes, pointers) exceed JS's exact integer range, so they are
 * BigInts in memory and printed as exact JSON numbers; parsing keeps long
 * integer literals as digit strings instead of rounding them.
 */
export interface EventArg {
  name: string;
  type: string;
  value: unknown;
}

export interface TraceeEvent {
  timestamp: bigint;
  threadStartTime: bigint;
  processorId: number;
  processId: number;
  cgroupId: bigint;
  threadId: number;
  parentProcessId: number;
  hostProcessId: number;
  hostThreadId: number;
  hostParentProcessId: number;
  userId: number;
  mountNamespace: number;
  pidNamespace: number;
  processName: string;
  executable: { path: string };
  hostName: string;
  containerId: string;
  container: { id?: string; name?: string; image?: string; imageDigest?: string };
  kubernetes: { podName?: string; podNamespace?: string; podUID?: string; podSandbox?: boolean };
  eventId: string;
  eventName: string;
  matchedPolicies: string[];
  argsNum: number;
  returnValue: number | bigint;
  syscall: string;
  stackAddresses: null;
  contextFlags: { containerStarted: boolean; isCompat: boolean };
  threadEntityId: number;
  processEntityId: number;
  parentEntityId: number;
  args: EventArg[];
  metadata?: { Version: string; Description: string; Tags: string[] | null; Properties: Record<string, unknown> };
}

const BIG = '\u0000big:';

/** JSON.stringify that prints BigInts as exact numbers and bytes as base64. */
export function stringifyJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return BIG + v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    return v;
  }, indent);
  // JSON.stringify escapes the NUL marker as \u0000.
  return text.includes('\\u0000big:') ? text.replace(/"\\u0000big:(-?\d+)"/g, '$1') : text;
}

/**
 * JSON.parse that keeps integer literals longer than 15 digits as strings, so
 * `"timestamp":1732000000123456789` is not rounded. Consumers that expect an
 * integer accept a digit string (see batch-writer.ts).
 */
export function parseJson(text: string): unknown {
  return JSON.parse(quoteLongIntegers(text));
}

function quoteLongIntegers(text: string): string {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) { inString = true; continue; }
    if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
      let j = i + 1;
      while (j < text.length && isNumberChar(text.charCodeAt(j))) j++;
      const literal = text.slice(i, j);
      if (/^-?\d{16,}$/.test(literal)) {
        out += text.slice(last, i) + '"' + literal + '"';
        last = j;
      }
      i = j - 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x65 || c === 0x45;
}

/**
 * SockAddr arguments: raw kernel `struct sockaddr_*` bytes in the flat
 * encoding, Tracee's string map in JSON ({sa_family, sin_addr, sin_port, …}).
 */
import { isIPv4, isIPv6 } from 'node:net';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;

type Fail = (what: string) => Error;

export function encodeSockAddr(map: Record<string, unknown>, fail: Fail): Uint8Array {
  const family = map.sa_family;
  if (family === 'AF_INET') {
    const addr = String(map.sin_addr ?? '0.0.0.0');
    if (!isIPv4(addr)) throw fail('an IPv4 sin_addr');
    const out = new Uint8Array(16);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, AF_INET, true);
    dv.setUint16(2, Number(map.sin_port ?? 0), false);
    out.set(addr.split('.').map(Number), 4);
    return out;
  }
  if (family === 'AF_INET6') {
    const addr = String(map.sin6_addr ?? '::');
    if (!isIPv6(addr)) throw fail('an IPv6 sin6_addr');
    const out = new Uint8Array(28);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, AF_INET6, true);
    dv.setUint16(2, Number(map.sin6_port ?? 0), false);
    dv.setUint32(4, Number(map.sin6_flowinfo ?? 0), false);
    out.set(ipv6Bytes(addr), 8);
    dv.setUint32(24, Number(map.sin6_scopeid ?? 0), true);
    return out;
  }
  if (family === 'AF_UNIX') {
    const path = new TextEncoder().encode(String(map.sun_path ?? ''));
    const out = new Uint8Array(2 + path.length);
    new DataView(out.buffer).setUint16(0, AF_UNIX, true);
    out.set(path, 2);
    return out;
  }
  throw fail('sa_family AF_INET, AF_INET6 or AF_UNIX');
}

export function decodeSockAddr(bytes: Uint8Array): Record<string, string> {
  if (bytes.length < 2) return {};
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = dv.getUint16(0, true);
  if (family === AF_INET && bytes.length >= 8) {
    return { sa_family: 'AF_INET', sin_port: String(dv.getUint16(2, false)), sin_addr: Array.from(bytes.subarray(4, 8)).join('.') };
  }
  if (family === AF_INET6 && bytes.length >= 24) {
    return {
      sa_family: 'AF_INET6', sin6_port: String(dv.getUint16(2, false)), sin6_flowinfo: String(dv.getUint32(4, false)),
      sin6_addr: ipv6Text(bytes.subarray(8, 24)), sin6_scopeid: String(bytes.length >= 28 ? dv.getUint32(24, true) : 0),
    };
  }
  if (family === AF_UNIX) {
    const path = bytes.subarray(2);
    const nul = path.indexOf(0);
    return { sa_family: 'AF_UNIX', sun_path: Buffer.from(nul >= 0 ? path.subarray(0, nul) : path).toString('utf8') };
  }
  return { sa_family: String(family) };
}

function ipv6Bytes(text: string): number[] {
  const [head, tail = ''] = text.includes('::') ? text.split('::') : [text, undefined as unknown as string];
  const parse = (s: string | undefined) => (s ? s.split(':') : []).flatMap((g) => (g.includes('.') ? v4Groups(g) : [parseInt(g, 16)]));
  const h = parse(head);
  const t = text.includes('::') ? parse(tail) : [];
  const groups = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function v4Groups(v4: string): number[] {
  const b = v4.split('.').map(Number);
  return [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
}

function ipv6Text(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  // Compress the longest run of zero groups, as Go's net.IP.String does.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/**
 * SockAddr: a view over a `SockAddr` argument (`remote_addr` of
 * security_socket_connect and socket_dup): the kernel's `struct sockaddr_in`,
 * `sockaddr_in6` or `sockaddr_un` bytes, family first
 * (docs/abi/flat-encoding.md). Tracee shows it as a string map
 * ({sa_family, sin_addr, sin_port, …}); the text accessors here give the same
 * strings, written into the view arena, so like every SDK view they are valid
 * until the handler returns and allocate nothing on the GC heap.
 *
 *   SockAddr (8 bytes, @unmanaged): | ptr: usize | len: u32 |
 *   sockaddr_in:  | family u16 | port u16 (big-endian) | addr [4] | zero [8] |
 *   sockaddr_in6: | family u16 | port u16 (big-endian) | flowinfo u32 | addr [16] | scope_id u32 |
 *   sockaddr_un:  | family u16 | sun_path (NUL-terminated or not) |
 */
import { Bytes } from "./bytes";
import { allocView } from "./views";

/** Address families (<sys/socket.h>). */
export namespace AddressFamily {
  // @ts-ignore: decorator
  @inline export const AF_UNIX: u16 = 1;
  // @ts-ignore: decorator
  @inline export const AF_INET: u16 = 2;
  // @ts-ignore: decorator
  @inline export const AF_INET6: u16 = 10;
}

// @ts-ignore: decorator
@inline const IN_SIZE: u32 = 8; // family, port, 4-byte address (the zero padding may be cut)
// @ts-ignore: decorator
@inline const IN6_SIZE: u32 = 24; // family, port, flowinfo, 16-byte address
// @ts-ignore: decorator
@inline const IP_TEXT_MAX: usize = 48; // "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is 45

@final @unmanaged
export class SockAddr {
  private _ptr!: usize;
  private _len!: u32;

  /** A view of the sockaddr bytes in `b` (an argument obtained from the event). */
  static of(b: Bytes): SockAddr {
    let v = changetype<SockAddr>(allocView(offsetof<SockAddr>()));
    v._ptr = b.ptr;
    v._len = <u32>b.length;
    return v;
  }

  /** The address family, 0 if the argument is absent or shorter than 2 bytes. */
  get family(): u16 { return this._len >= 2 ? load<u16>(this._ptr) : 0; }
  get isInet4(): bool { return this.family == AddressFamily.AF_INET && this._len >= IN_SIZE; }
  get isInet6(): bool { return this.family == AddressFamily.AF_INET6 && this._len >= IN6_SIZE; }
  /** AF_INET or AF_INET6 with a whole address: Tracee's IsInternetFamily. */
  get isInternet(): bool { return this.isInet4 || this.isInet6; }
  /** AF_UNIX: Tracee's IsUnixFamily. */
  get isUnix(): bool { return this.family == AddressFamily.AF_UNIX; }

  /** The port (host byte order); 0 unless the family is internet. */
  get port(): u16 {
    if (!this.isInternet) return 0;
    return bswap<u16>(load<u16>(this._ptr, 2));
  }

  /** The raw address bytes: 4 (AF_INET), 16 (AF_INET6), else empty. */
  get addressBytes(): Bytes {
    if (this.isInet4) return Bytes.wrap(this._ptr + 4, 4);
    if (this.isInet6) return Bytes.wrap(this._ptr + 8, 16);
    return Bytes.empty();
  }

  /** `sun_path` up to its first NUL (AF_UNIX), else empty. */
  get path(): Bytes {
    if (!this.isUnix) return Bytes.empty();
    let p = this._ptr + 2;
    let n: u32 = 0;
    while (n + 2 < this._len && load<u8>(p + <usize>n) != 0) n++;
    return Bytes.wrap(p, n);
  }

  /**
   * The address as Tracee prints `sin_addr`/`sin6_addr` (Go's net.IP.String):
   * dotted decimal; IPv6 in lower-case hex with the longest run of two or more
   * zero groups shortened to "::", and IPv4-mapped addresses in dotted form.
   * Empty unless the family is internet.
   */
  ipText(): Bytes {
    let out = allocView(IP_TEXT_MAX);
    let n: usize = 0;
    if (this.isInet4) {
      n = writeIPv4(out, this._ptr + 4);
    } else if (this.isInet6) {
      n = writeIPv6(out, this._ptr + 8);
    }
    return Bytes.wrap(out, <u32>n);
  }

  /** The port in decimal as Tracee prints `sin_port`/`sin6_port` ("0" for port 0); empty unless internet. */
  portText(): Bytes {
    if (!this.isInternet) return Bytes.empty();
    let out = allocView(8);
    return Bytes.wrap(out, <u32>writeDecimal(out, <u32>this.port));
  }
}

function writeDecimal(out: usize, v: u32): usize {
  let digits: usize = 1;
  for (let t = v; t >= 10; t /= 10) digits++;
  for (let i = digits; i > 0; i--) {
    store<u8>(out + i - 1, <u8>(0x30 + v % 10));
    v /= 10;
  }
  return digits;
}

function writeIPv4(out: usize, addr: usize): usize {
  let n: usize = 0;
  for (let i: usize = 0; i < 4; i++) {
    if (i > 0) store<u8>(out + n++, 0x2e);
    n += writeDecimal(out + n, <u32>load<u8>(addr + i));
  }
  return n;
}

function group(addr: usize, i: i32): u32 {
  return (<u32>load<u8>(addr + <usize>(i << 1)) << 8) | <u32>load<u8>(addr + <usize>(i << 1) + 1);
}

function writeHex(out: usize, v: u32): usize {
  let n: usize = 0;
  let started = false;
  for (let shift = 12; shift >= 0; shift -= 4) {
    let d = (v >> <u32>shift) & 0xf;
    if (d == 0 && !started && shift > 0) continue;
    started = true;
    store<u8>(out + n++, <u8>(d < 10 ? 0x30 + d : 0x57 + d));
  }
  return n;
}

function writeIPv6(out: usize, addr: usize): usize {
  // ::ffff:a.b.c.d prints as a.b.c.d (Go's To4()).
  let mapped = true;
  for (let i: usize = 0; i < 10 && mapped; i++) mapped = load<u8>(addr + i) == 0;
  if (mapped && load<u8>(addr + 10) == 0xff && load<u8>(addr + 11) == 0xff) return writeIPv4(out, addr + 12);

  // The longest run of zero groups (the first of equal ones), if at least two long.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && group(addr, j) == 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    if (j > i) i = j - 1;
  }
  let n: usize = 0;
  for (let i = 0; i < 8; i++) {
    if (i == best) {
      store<u8>(out + n++, 0x3a);
      store<u8>(out + n++, 0x3a);
      i += bestLen - 1;
      continue;
    }
    if (i > 0 && i != best + bestLen) store<u8>(out + n++, 0x3a);
    n += writeHex(out + n, group(addr, i));
  }
  return n;
}

/**
 * time.Time formatting with Go reference-time layouts
 * ("2006-01-02T15:04:05.999999999Z07:00"), for sprig's date/dateInZone and
 * for printing times. Zones come from Intl (the system's tz database).
 */
import { GoTime } from './values.ts';

const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Broken-down wall clock of an instant in a zone. */
interface Wall {
  year: number; month: number; day: number; yday: number; weekday: number;
  hour: number; minute: number; second: number; nanos: number;
  /** Seconds east of UTC. */
  offset: number;
  abbrev: string;
}

type Chunk =
  | { kind: 'text'; text: string }
  | { kind: 'std'; std: string; digits?: number; sep?: string };

const layoutCache = new Map<string, Chunk[]>();

/** Formats `t` like Go's Time.Format(layout). */
export function formatTime(t: GoTime, layout: string): string {
  let chunks = layoutCache.get(layout);
  if (!chunks) {
    chunks = parseLayout(layout);
    if (layoutCache.size < 256) layoutCache.set(layout, chunks);
  }
  const w = wallClock(t);
  let out = '';
  for (const c of chunks) out += c.kind === 'text' ? c.text : formatStd(c, w);
  return out;
}

/** Go's Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST". */
export function timeString(t: GoTime): string {
  return formatTime(t, '2006-01-02 15:04:05.999999999 -0700 MST');
}

const startsLower = (s: string, at: number) => at < s.length && s.charCodeAt(at) >= 0x61 && s.charCodeAt(at) <= 0x7a;
const isDigitAt = (s: string, at: number) => at < s.length && s.charCodeAt(at) >= 0x30 && s.charCodeAt(at) <= 0x39;

/** Splits a layout into literal text and standard elements, as Go's nextStdChunk does. */
function parseLayout(layout: string): Chunk[] {
  const chunks: Chunk[] = [];
  let text = '';
  const std = (s: string, len: number, extra: Partial<Chunk & { kind: 'std' }> = {}) => {
    if (text) chunks.push({ kind: 'text', text });
    text = '';
    chunks.push({ kind: 'std', std: s, ...extra } as Chunk);
    return len;
  };
  let i = 0;
  while (i < layout.length) {
    const rest = layout.slice(i);
    const c = layout[i];
    let used = 0;
    switch (c) {
      case 'J':
        if (rest.startsWith('January')) used = std('January', 7);
        else if (rest.startsWith('Jan') && !startsLower(layout, i + 3)) used = std('Jan', 3);
        break;
      case 'M':
        if (rest.startsWith('Monday')) used = std('Monday', 6);
        else if (rest.startsWith('Mon') && !startsLower(layout, i + 3)) used = std('Mon', 3);
        else if (rest.startsWith('MST')) used = std('MST', 3);
        break;
      case '0':
        if (rest.length >= 2 && rest[1] >= '1' && rest[1] <= '6') used = std(rest.slice(0, 2), 2);
        else if (rest.startsWith('002')) used = std('002', 3);
        break;
      case '1':
        used = rest.startsWith('15') ? std('15', 2) : std('1', 1);
        break;
      case '2':
        used = rest.startsWith('2006') ? std('2006', 4) : std('2', 1);
        break;
      case '_':
        if (rest.startsWith('_2006')) { text += '_'; i++; used = std('2006', 4); }
        else if (rest.startsWith('_2')) used = std('_2', 2);
        else if (rest.startsWith('__2')) used = std('__2', 3);
        break;
      case '3': case '4': case '5':
        used = std(c, 1);
        break;
      case 'P':
        if (rest.startsWith('PM')) used = std('PM', 2);
        break;
      case 'p':
        if (rest.startsWith('pm')) used = std('pm', 2);
        break;
      case '-':
      case 'Z':
        for (const tz of ['070000', '07:00:00', '0700', '07:00', '07']) {
          if (rest.startsWith(c + tz)) { used = std(c + tz, tz.length + 1); break; }
        }
        break;
      case '.':
      case ',':
        if (rest.length > 1 && (rest[1] === '0' || rest[1] === '9')) {
          let j = 1;
          while (j < rest.length && rest[j] === rest[1]) j++;
          if (!isDigitAt(rest, j)) used = std(rest[1] === '0' ? 'frac0' : 'frac9', j, { digits: j - 1, sep: c });
        }
        break;
    }
    if (used === 0) { text += c; i++; } else i += used;
  }
  if (text) chunks.push({ kind: 'text', text });
  return chunks;
}

const pad = (n: number, width: number, fill = '0') => String(n).padStart(width, fill);

function formatStd(c: Chunk & { kind: 'std' }, w: Wall): string {
  switch (c.std) {
    case 'January': return LONG_MONTHS[w.month - 1];
    case 'Jan': return LONG_MONTHS[w.month - 1].slice(0, 3);
    case 'Monday': return LONG_DAYS[w.weekday];
    case 'Mon': return LONG_DAYS[w.weekday].slice(0, 3);
    case 'MST': return w.abbrev || numericZone(w.offset, false, false, false);
    case '01': return pad(w.month, 2);
    case '1': return String(w.month);
    case '02': return pad(w.day, 2);
    case '2': return String(w.day);
    case '_2': return pad(w.day, 2, ' ');
    case '002': return pad(w.yday, 3);
    case '__2': return pad(w.yday, 3, ' ');
    case '03': return pad(w.hour % 12 === 0 ? 12 : w.hour % 12, 2);
    case '3': return String(w.hour % 12 === 0 ? 12 : w.hour % 12);
    case '15': return pad(w.hour, 2);
    case '04': return pad(w.minute, 2);
    case '4': return String(w.minute);
    case '05': return pad(w.second, 2);
    case '5': return String(w.second);
    case '06': return pad(((w.year % 100) + 100) % 100, 2);
    case '2006': return w.year < 0 ? '-' + pad(-w.year, 4) : pad(w.year, 4);
    case 'PM': return w.hour >= 12 ? 'PM' : 'AM';
    case 'pm': return w.hour >= 12 ? 'pm' : 'am';
    case 'frac0': return c.sep + pad(w.nanos, 9).slice(0, c.digits);
    case 'frac9': {
      const digits = pad(w.nanos, 9).slice(0, c.digits).replace(/0+$/, '');
      return digits ? c.sep + digits : '';
    }
    default: {
      // Numeric zones: -0700 -07:00 -07 -070000 -07:00:00, and Z… (Z when UTC).
      const iso = c.std[0] === 'Z';
      if (iso && w.offset === 0) return 'Z';
      const spec = c.std.slice(1);
      return numericZone(w.offset, spec.includes(':'), spec.length === 2, spec.length >= 6);
    }
  }
}

function numericZone(offset: number, colon: boolean, hoursOnly: boolean, seconds: boolean): string {
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = pad(Math.floor(abs / 3600), 2);
  const mm = pad(Math.floor((abs % 3600) / 60), 2);
  const ss = pad(abs % 60, 2);
  if (hoursOnly) return sign + hh;
  const sep = colon ? ':' : '';
  return sign + hh + sep + mm + (seconds ? sep + ss : '');
}

/** The process's local zone, as Go's time.Local would be. */
export function localZone(): string {
  return process.env.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** True if `zone` is a zone name Intl knows ("UTC", "Local", "Europe/Paris", …). */
export function isKnownZone(zone: string): boolean {
  if (zone === 'UTC' || zone === 'Local' || zone === '') return true;
  try {
    zoneFormatter(zone);
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(zone: string, locale = 'en-US'): Intl.DateTimeFormat {
  const key = locale + ' ' + zone;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', timeZoneName: 'short',
    });
    formatters.set(key, f);
  }
  return f;
}

function wallClock(t: GoTime): Wall {
  const zone = t.zone === 'Local' || t.zone === '' ? localZone() : t.zone;
  const floorMs = t.ns >= 0n ? t.ns / 1_000_000n : -((-t.ns + 999_999n) / 1_000_000n);
  const ms = Number(floorMs);
  const nanos = Number(((t.ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
  let offset = 0;
  let abbrev = 'UTC';
  if (zone !== 'UTC') {
    const parts = zoneFormatter(zone).formatToParts(new Date(ms));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    offset = Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 1000);
    abbrev = goAbbrev(parts.find((p) => p.type === 'timeZoneName')?.value ?? '', offset);
    // en-US names American zones only; en-GB knows the European ones (CET, CEST, BST, EET…).
    if (/^[+-]/.test(abbrev) && zone.startsWith('Europe/')) {
      const gb = zoneFormatter(zone, 'en-GB').formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? '';
      abbrev = goAbbrev(gb, offset);
    }
  }
  const d = new Date(Math.floor(ms / 1000) * 1000 + offset * 1000);
  const year = d.getUTCFullYear();
  const yday = Math.floor((Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(year, 0, 1)) / 86_400_000) + 1;
  return {
    year, month: d.getUTCMonth() + 1, day: d.getUTCDate(), yday, weekday: d.getUTCDay(),
    hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), nanos, offset, abbrev,
  };
}

/** Intl's "GMT+2" has no tz abbreviation; Go's tzdata then prints "+02" (or "+0530"). */
function goAbbrev(name: string, offset: number): string {
  if (name === 'GMT' && offset === 0) return 'GMT';
  if (!/^GMT[+-]/.test(name) && /^[A-Z]{2,5}$/.test(name)) return name;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = pad(Math.floor(abs / 3600), 2);
  const mm = Math.floor((abs % 3600) / 60);
  return sign + hh + (mm ? pad(mm, 2) : '');
}

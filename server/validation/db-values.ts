// Text that Postgres will read as the type it is compared with, checked before it is sent: integers in range,
// timestamps it cannot misread, bytea input syntax, LIKE patterns. Every check runs in linear time.

const INT4_MIN = -(2n ** 31n);
const INT4_MAX = 2n ** 31n - 1n;
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

export type IntWidth = "int4" | "int8";

/** The integer a decimal text (`-12`, `007`) stands for when it fits in `width`, else undefined. */
export function parseInteger(text: string, width: IntWidth): bigint | undefined {
  if (!/^-?\d+$/.test(text) || text.length > 40) return undefined;
  const n = BigInt(text);
  const [min, max] = width === "int4" ? [INT4_MIN, INT4_MAX] : [INT8_MIN, INT8_MAX];
  return n < min || n > max ? undefined : n;
}

export const fitsInt4 = (n: bigint): boolean => n >= INT4_MIN && n <= INT4_MAX;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return day <= days;
}

// Date, time, optional fraction and zone; groups: year, month, day, hour, minute, second, zone hour/minute/second.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2})(?::?(\d{2})(?::(\d{2}))?)?)$/;
// What Postgres prints for a timestamptz (DateStyle ISO): years may have more digits and a ` BC` suffix.
const PG_TIMESTAMPTZ =
  /^(\d{4,6})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)?[+-](\d{2})(?::(\d{2})(?::(\d{2}))?)?(?: BC)?$/;

function checkTimestamp(m: RegExpExecArray | null): boolean {
  if (m === null) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, zh = 0, zm = 0, zs = 0] = m
    .slice(1)
    .map((g) => (g === undefined ? 0 : Number.parseInt(g, 10)));
  return (
    year >= 1 &&
    validDate(year, month, day) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 60 &&
    zh <= 15 &&
    zm <= 59 &&
    zs <= 59
  );
}

/**
 * An RFC 3339 date-time with its offset (`2024-05-01T00:00:00Z`, `…-07:00`): what Postgres reads as the same instant
 * whatever its time zone. Years 0001–9999, real dates, hours 0–23, a leap second allowed, offsets within ±15:59.
 */
export function isRfc3339Timestamp(text: string): boolean {
  return checkTimestamp(RFC3339.exec(text));
}

/** A timestamptz as Postgres prints it (`2024-05-01 00:00:00.123+00`), or an infinity. */
export function isPgTimestamptzText(text: string): boolean {
  if (text === "infinity" || text === "-infinity") return true;
  return checkTimestamp(PG_TIMESTAMPTZ.exec(text));
}

/** A float8 as Postgres prints it (`1.5`, `1e-05`, `NaN`, `-Infinity`). */
export function isPgFloatText(text: string): boolean {
  return /^(?:-?(?:\d+(?:\.\d+)?(?:e[+-]\d+)?|Infinity)|NaN)$/.test(text);
}

const HEX = /^[0-9a-fA-F]$/;
const OCTAL_ESCAPE = /^[0-3][0-7][0-7]$/;
const BYTEA_SPACE = /^[ \t\n\r\f\v]$/;

/** The bytes a bytea input text (hex `\x…` or escape format) stands for, or undefined when Postgres rejects it. */
export function byteaInput(text: string): Buffer | undefined {
  if (text.startsWith("\\x")) {
    const out: number[] = [];
    let i = 2;
    while (i < text.length) {
      const c = text[i] ?? "";
      if (BYTEA_SPACE.test(c)) {
        i++;
        continue;
      }
      const d = text[i + 1] ?? "";
      if (!HEX.test(c) || !HEX.test(d)) return undefined;
      out.push(Number.parseInt(c + d, 16));
      i += 2;
    }
    return Buffer.from(out);
  }
  const parts: Buffer[] = [];
  let start = 0;
  let i = text.indexOf("\\");
  while (i >= 0) {
    parts.push(Buffer.from(text.slice(start, i), "utf8"));
    if (text[i + 1] === "\\") {
      parts.push(Buffer.from([0x5c]));
      start = i + 2;
    } else if (OCTAL_ESCAPE.test(text.slice(i + 1, i + 4))) {
      parts.push(Buffer.from([Number.parseInt(text.slice(i + 1, i + 4), 8)]));
      start = i + 4;
    } else {
      return undefined;
    }
    i = text.indexOf("\\", start);
  }
  parts.push(Buffer.from(text.slice(start), "utf8"));
  return Buffer.concat(parts);
}

/** Whether a LIKE pattern ends in its escape character (a lone trailing `\`), which Postgres rejects. */
export function endsInLikeEscape(pattern: string | Uint8Array): boolean {
  let i = 0;
  while (i < pattern.length) {
    const c = typeof pattern === "string" ? pattern.charCodeAt(i) : (pattern[i] ?? 0);
    if (c === 0x5c) {
      if (i === pattern.length - 1) return true;
      i += 2;
    } else {
      i++;
    }
  }
  return false;
}

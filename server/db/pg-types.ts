// How the server's connections read column values: as node-postgres does, except `timestamptz`, whose usual text
// form (`2026-12-01 05:19:33.123456+00`, DateStyle ISO) is read by hand. node-postgres's own parser (a regular
// expression per value) was the largest single cost of reading a page of executions. Anything else in that column
// (BC dates, years past 9999, infinity) still goes to node-postgres's parser.
import pg from "pg";

const TIMESTAMPTZ = 1184;
const fallback = pg.types.getTypeParser(TIMESTAMPTZ, "text") as (value: string) => Date | number;

/** The digits of `s` from `start` to `end` as a number; -1 if any is not a digit. */
function digits(s: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]`, as a Date (milliseconds, the rest of the fraction dropped). */
export function parseTimestamptz(s: string): Date | number {
  if (
    s.length < 22 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 32 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  )
    return fallback(s);
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 7);
  const day = digits(s, 8, 10);
  const hour = digits(s, 11, 13);
  const minute = digits(s, 14, 16);
  const second = digits(s, 17, 19);
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    i++;
    let scale = 100;
    for (let d = s.charCodeAt(i) - 48; d >= 0 && d <= 9; d = s.charCodeAt(i) - 48) {
      ms += d * scale;
      scale /= 10;
      i++;
    }
    ms = Math.floor(ms);
  }
  const sign = s.charCodeAt(i) === 43 ? 1 : s.charCodeAt(i) === 45 ? -1 : 0;
  const rest = s.length - i - 1;
  // The zone: ±HH, ±HH:MM or ±HH:MM:SS.
  if (sign === 0 || (rest !== 2 && rest !== 5 && rest !== 8) || year < 100) return fallback(s);
  const zh = digits(s, i + 1, i + 3);
  const zm = rest >= 5 && s.charCodeAt(i + 3) === 58 ? digits(s, i + 4, i + 6) : rest >= 5 ? -1 : 0;
  const zs = rest === 8 && s.charCodeAt(i + 6) === 58 ? digits(s, i + 7, i + 9) : rest === 8 ? -1 : 0;
  if (Math.min(year, month, day, hour, minute, second, zh, zm, zs) < 0) return fallback(s);
  const offsetMs = sign * ((zh * 60 + zm) * 60 + zs) * 1000;
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMs);
}

/** node-postgres's `types` option for the server's connections. */
export const PG_TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (oid === TIMESTAMPTZ && format !== "binary") return parseTimestamptz;
    return pg.types.getTypeParser(oid, format === "binary" ? "binary" : "text");
  },
};

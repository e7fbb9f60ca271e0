// The server's timestamptz reader gives the Date node-postgres's own parser gives, for every form Postgres writes
// (fractions of 0–6 digits, zones of hours, minutes and seconds, either sign) and hands it the forms it does not read.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { PG_TYPES, parseTimestamptz } from "../../../server/db/pg-types.js";

const reference = pg.types.getTypeParser(1184, "text") as (s: string) => Date | number;
const same = (s: string) => {
  const ours = parseTimestamptz(s);
  const theirs = reference(s);
  expect(ours instanceof Date ? ours.getTime() : ours, s).toEqual(
    theirs instanceof Date ? theirs.getTime() : theirs,
  );
};

describe("parseTimestamptz", () => {
  it("reads every millisecond, with and without microseconds, as node-postgres does", () => {
    for (let ms = 0; ms < 1000; ms++) {
      const f = String(ms).padStart(3, "0");
      for (const frac of [f, `${f}999`, `${f}001`, `${f}5`, f.replace(/0+$/, "")])
        same(`2026-12-01 05:19:33${frac === "" ? "" : `.${frac}`}+00`);
    }
  });

  it("reads zones east and west, with minutes and seconds, and dates across the calendar", () => {
    const zones = ["+00", "+01", "-08", "+05:30", "-03:30", "+14", "-12", "+00:00:36", "-00:25:21"];
    const dates = [
      "1970-01-01 00:00:00",
      "1999-12-31 23:59:59.999999",
      "2000-02-29 12:00:00.5",
      "2038-01-19 03:14:08",
    ];
    for (const d of dates) for (const z of zones) same(`${d}${z}`);
    for (let i = 0; i < 2000; i++) {
      const t = new Date(Math.floor(Math.random() * 4e12));
      same(
        `${t.toISOString().replace("T", " ").replace("Z", "")}${String(Math.floor(Math.random() * 1000)).padStart(3, "0")}+00`,
      );
    }
  });

  it("hands the forms it does not read to node-postgres's parser", () => {
    for (const s of [
      "infinity",
      "-infinity",
      "0044-03-15 12:00:00+00 BC",
      "12345-01-01 00:00:00+00",
      "0099-01-01 00:00:00+00",
      "2026-12-01T05:19:33Z",
    ])
      same(s);
  });

  it("is what the server's connections use for timestamptz only", () => {
    expect(PG_TYPES.getTypeParser(1184, "text")).toBe(parseTimestamptz);
    expect(PG_TYPES.getTypeParser(1114, "text")).toBe(pg.types.getTypeParser(1114, "text"));
    expect(PG_TYPES.getTypeParser(20, "text")).toBe(pg.types.getTypeParser(20, "text"));
  });
});

import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  downloadExpiresIn,
  formatGoDuration,
  uploadExpiresInMs,
} from "../../../server/validation/data-proxy-validator.js";

const d = (seconds: number, nanos = 0) => create(DurationSchema, { seconds: BigInt(seconds), nanos });
const HOUR = 3_600_000;

describe("formatGoDuration", () => {
  it.each([
    [0n, "0s"],
    [3n, "3ns"],
    [1_500n, "1.5µs"],
    [250_000_000n, "250ms"],
    [1_500_000_000n, "1.5s"],
    [90_000_000_000n, "1m30s"],
    [3_600_000_000_000n, "1h0m0s"],
    [7_261_000_000_000n, "2h1m1s"],
    [-1_000_000_000n, "-1s"],
  ])("%s ns → %s", (ns, text) => expect(formatGoDuration(ns)).toBe(text));
});

describe("expires_in", () => {
  it("upload: absent → the maximum; above it → FlyteAdmin's text; invalid → invalid", () => {
    expect(uploadExpiresInMs(undefined, HOUR)).toBe(HOUR);
    expect(uploadExpiresInMs(d(90), HOUR)).toBe(90_000);
    expect(uploadExpiresInMs(d(0, 1), HOUR)).toBe(1);
    expect(uploadExpiresInMs(d(-5), HOUR)).toBe(0);
    expect(() => uploadExpiresInMs(d(7200), HOUR)).toThrow(
      "expiresIn [2h0m0s] cannot exceed max allowed expiration [1h0m0s]",
    );
    expect(() => uploadExpiresInMs(d(1, -1), HOUR)).toThrow("expiresIn [seconds:1 nanos:-1] is invalid");
  });

  it("download: the problem as FlyteAdmin words it", () => {
    expect(downloadExpiresIn(undefined, HOUR)).toEqual({ ms: HOUR });
    expect(downloadExpiresIn(d(60), HOUR)).toEqual({ ms: 60_000 });
    expect(downloadExpiresIn(d(3601), HOUR)).toEqual({
      problem:
        "expiresIn is invalid. Error: input duration [1h0m1s] cannot exceed max allowed expiration [1h0m0s]",
    });
    expect(downloadExpiresIn(d(-1), HOUR)).toEqual({
      problem: "expiresIn is invalid. Error: input duration [-1s] should not less than 0",
    });
  });
});

import { describe, expect, it } from "vitest";
import { chunked } from "../../server/repositories/multi-row.js";

describe("chunked multi-row writes", () => {
  it("split rows so no statement exceeds Postgres's bind-parameter limit, keeping order", async () => {
    const rows = Array.from({ length: 25_000 }, (_, i) => i);
    const sizes: number[] = [];
    const out = await chunked(rows, 10, async (chunk) => {
      sizes.push(chunk.length);
      return chunk.map((x) => x * 2);
    });
    expect(sizes).toEqual([6_000, 6_000, 6_000, 6_000, 1_000]);
    expect(sizes.every((n) => n * 10 <= 65_535)).toBe(true);
    expect(out).toEqual(rows.map((x) => x * 2));
  });

  it("write small batches in one statement", async () => {
    let calls = 0;
    await chunked([1, 2, 3], 13, async (chunk) => {
      calls++;
      return [...chunk];
    });
    expect(calls).toBe(1);
  });
});

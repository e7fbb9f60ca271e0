import { describe, expect, it } from "vitest";
import { Coalescer, type Outcome } from "../../server/coalescer.js";

function recording(
  opts: { maxBatch: number; key?: (n: number) => string; maxInFlight?: number; immediate?: boolean },
  fail?: (batch: readonly number[]) => boolean,
) {
  const batches: number[][] = [];
  const c = new Coalescer<number, number>(async (items) => {
    batches.push([...items]);
    await new Promise((r) => setTimeout(r, 5));
    if (fail?.(items) === true) throw new Error("statement failed");
    return items.map(
      (n): Outcome<number> =>
        n < 0 ? { ok: false, error: new Error(`bad ${n}`) } : { ok: true, value: n * 2 },
    );
  }, opts);
  return { c, batches };
}

describe("Coalescer", () => {
  it("runs items submitted in one turn together, and those arriving meanwhile in the next operation", async () => {
    const { c, batches } = recording({ maxBatch: 100 });
    const first = [1, 2, 3].map((n) => c.submit(n));
    await new Promise((r) => setImmediate(r));
    const second = [4, 5].map((n) => c.submit(n));
    expect(await Promise.all([...first, ...second])).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it("caps operations at maxBatch and keeps equal keys apart", async () => {
    const { c, batches } = recording({ maxBatch: 3, key: (n) => String(n % 10) });
    const all = [1, 11, 2, 3, 4, 21].map((n) => c.submit(n));
    expect(await Promise.all(all)).toEqual([2, 22, 4, 6, 8, 42]);
    expect(batches).toEqual([[1, 2, 3], [11, 4], [21]]);
  });

  it("gives each item its own error, and every item the operation's error", async () => {
    const { c } = recording({ maxBatch: 10 }, (b) => b.includes(99));
    const own = await Promise.allSettled([c.submit(1), c.submit(-1)]);
    expect(own.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
    const shared = await Promise.allSettled([c.submit(2), c.submit(99)]);
    expect(shared.map((r) => (r.status === "rejected" ? String(r.reason) : "ok"))).toEqual([
      "Error: statement failed",
      "Error: statement failed",
    ]);
    expect(await c.submit(3)).toBe(6);
  });

  it("with immediate and maxInFlight, starts operations at once up to the limit and groups the rest", async () => {
    const { c, batches } = recording({ maxBatch: 100, maxInFlight: 2, immediate: true });
    const all = [1, 2, 3, 4, 5].map((n) => c.submit(n));
    // The first two started before the turn ended; the others wait for one of them.
    expect(batches).toEqual([[1], [2]]);
    expect(await Promise.all(all)).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([[1], [2], [3, 4, 5]]);
  });
});

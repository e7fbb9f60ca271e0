import { describe, expect, it } from "vitest";
import { LruCache } from "../../server/lru-cache.js";

describe("LruCache", () => {
  it("forgets the least recently used entry beyond its capacity", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1);
    cache.set("c", 3);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
  });

  it("caches what a loader finds, and never a miss", async () => {
    const cache = new LruCache<string, number>(4);
    let calls = 0;
    const load = async () => {
      calls++;
      return calls === 1 ? undefined : 7;
    };
    expect(await cache.getOrLoad("k", load)).toBeUndefined();
    expect(await cache.getOrLoad("k", load)).toBe(7);
    expect(await cache.getOrLoad("k", load)).toBe(7);
    expect(calls).toBe(2);
  });
});

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

  it("bounds the total weight when given one, forgetting as many of the oldest entries as it takes", () => {
    const cache = new LruCache<string, string>(10, (v) => v.length);
    cache.set("a", "xxxx");
    cache.set("b", "xxxx");
    expect(cache.get("a")).toBe("xxxx");
    cache.set("c", "xxxxxx");
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe("xxxx");
    cache.set("a", "x");
    cache.set("d", "xxx");
    expect(cache.get("c")).toBe("xxxxxx");
    expect(cache.get("a")).toBe("x");
    cache.set("e", "xxxxxxxxxxxx");
    expect([cache.get("a"), cache.get("c"), cache.get("d")]).toEqual([undefined, undefined, undefined]);
    expect(cache.get("e")).toBe("xxxxxxxxxxxx");
  });
});

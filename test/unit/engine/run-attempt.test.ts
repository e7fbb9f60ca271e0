import path from "node:path";
import { describe, expect, it } from "vitest";
import { pathSegment } from "../../../server/engine/run-attempt.js";

describe("pathSegment", () => {
  it("keeps plain node ids and turns anything else into a digest that stays one directory", () => {
    for (const id of ["n0", "map-12", "start_node", "a.b"]) expect(pathSegment(id)).toBe(id);
    const odd = ["..", ".", "../../tmp/x", "a/b", "a\\b", "x".repeat(300), "é", "a..b", "", "-0-\u0000"];
    const names = odd.map(pathSegment);
    for (const name of names) {
      expect(name).toMatch(/^n-[0-9a-f]{24}$/);
      expect(path.join("/root", name, "0").startsWith("/root/n-")).toBe(true);
    }
    expect(new Set(names).size).toBe(odd.length);
  });
});

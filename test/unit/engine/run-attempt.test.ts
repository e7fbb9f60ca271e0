import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pathSegment, removeWorkDir } from "../../../server/engine/run-attempt.js";
import { eventually } from "../../support/eventually.js";

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

describe("removeWorkDir", () => {
  it("frees the path at once and removes what the task left on the thread pool, not on the event loop", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-workdir-"));
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args) };
    try {
      const dir = path.join(root, "42-0-n0");
      fs.mkdirSync(path.join(dir, "deep", "er"), { recursive: true });
      for (let i = 0; i < 2000; i++) fs.writeFileSync(path.join(dir, `f${i}`), "x");
      fs.writeFileSync(path.join(dir, "deep", "er", "last"), "x");

      removeWorkDir(dir, logger);
      expect(fs.existsSync(dir)).toBe(false); // the path is free before the call returns...
      const aside = fs.readdirSync(root);
      expect(aside).toEqual([expect.stringMatching(/^42-0-n0\.removing-[0-9a-f]{12}$/)]);
      expect(fs.readdirSync(path.join(root, aside[0] ?? "")).length).toBe(2001); // ...its files are not gone yet
      fs.mkdirSync(dir); // a new attempt may use the path meanwhile, untouched by the removal
      await eventually(
        async () => fs.readdirSync(root),
        (names) => names.length === 1,
        10_000,
      );
      expect(fs.readdirSync(root)).toEqual(["42-0-n0"]);

      removeWorkDir(path.join(root, "missing"), logger); // nothing there: nothing to do
      expect(warnings).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

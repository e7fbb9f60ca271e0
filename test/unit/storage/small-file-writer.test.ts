import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SmallFileWriter } from "../../../server/storage/small-file-writer.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-small-files-"));
const writer = new SmallFileWriter(".tmp-");
const bytes = (s: string) => new TextEncoder().encode(s);

afterAll(async () => {
  await writer.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("SmallFileWriter", () => {
  it("writes files in new directories and replaces existing ones, leaving no temporary file", async () => {
    const a = path.join(dir, "x/y/a.pb");
    const b = path.join(dir, "x/z/b.pb");
    expect(
      await writer.write([
        { path: a, data: bytes("one") },
        { path: b, data: bytes("two") },
      ]),
    ).toEqual([undefined, undefined]);
    expect(await writer.write([{ path: a, data: bytes("three") }])).toEqual([undefined]);
    expect(fs.readFileSync(a, "utf8")).toBe("three");
    expect(fs.readFileSync(b, "utf8")).toBe("two");
    expect(fs.readdirSync(path.join(dir, "x/y"))).toEqual(["a.pb"]);
  });

  it("writes into a directory removed since it was made", async () => {
    const file = path.join(dir, "gone/f.pb");
    await writer.write([{ path: file, data: bytes("1") }]);
    fs.rmSync(path.join(dir, "gone"), { recursive: true });
    expect(await writer.write([{ path: file, data: bytes("2") }])).toEqual([undefined]);
    expect(fs.readFileSync(file, "utf8")).toBe("2");
  });

  it("writes into a new directory under one removed since it was made", async () => {
    await writer.write([{ path: path.join(dir, "old/a/b/f.pb"), data: bytes("1") }]);
    fs.rmSync(path.join(dir, "old"), { recursive: true });
    const file = path.join(dir, "old/a/c/g.pb");
    expect(await writer.write([{ path: file, data: bytes("2") }])).toEqual([undefined]);
    expect(fs.readFileSync(file, "utf8")).toBe("2");
  });

  it("reports each file that cannot be written, and writes the others", async () => {
    fs.writeFileSync(path.join(dir, "plain"), "a file");
    const errors = await writer.write([
      { path: path.join(dir, "plain/under.pb"), data: bytes("no") },
      { path: path.join(dir, "ok.pb"), data: bytes("yes") },
    ]);
    expect(errors[0]?.code).toMatch(/^(EEXIST|ENOTDIR)$/); // mkdir -p meets a file
    expect(errors[1]).toBeUndefined();
    expect(fs.readFileSync(path.join(dir, "ok.pb"), "utf8")).toBe("yes");
  });

  it("answers concurrent batches each with its own results", async () => {
    const batches = Array.from({ length: 20 }, (_, i) =>
      writer.write([{ path: path.join(dir, `c/${i}.pb`), data: bytes(String(i)) }]),
    );
    expect(await Promise.all(batches)).toEqual(batches.map(() => [undefined]));
    for (let i = 0; i < 20; i++) expect(fs.readFileSync(path.join(dir, `c/${i}.pb`), "utf8")).toBe(String(i));
  });
});

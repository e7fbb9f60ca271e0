// getFile through the direct path (taken for files not known to be small), and the refusals of a GET: 404 as
// BlobNotFoundError, a long reason cut to 2 KiB, the same texts as Node's http path; no file made for any of them.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { directGet } from "../../../client/direct-get.js";
import { BlobNotFoundError, BlobTransferError } from "../../../client/errors.js";
import { getFile } from "../../../client/http-transfer.js";
import {
  answer,
  bytesOf,
  chunked,
  filesIn,
  head,
  memoryFile,
  perTestServer,
  rejection,
  sha256,
} from "./raw-http-server.js";

const MiB = 1024 * 1024;

const fixture = perTestServer();

describe("getFile through the direct path", () => {
  it("writes a body into place, creating its directory, with nothing else left beside it", async () => {
    const body = bytesOf(3 * MiB + 5, 2);
    const s = await fixture.serve(async (c) => {
      await c.send(head("200 OK", `Content-Length: ${body.length}`));
      await c.stream(body);
      await c.end();
    });
    const dest = path.join(fixture.dir, "sub", "blob.bin");
    await getFile(`${s.origin}/b/blob.bin?X-Amz-Signature=secret`, dest);
    expect(sha256(fs.readFileSync(dest))).toBe(sha256(body));
    expect(filesIn(fixture.dir)).toEqual([path.join("sub", "blob.bin")]);
    expect(s.requests[0]).toMatch(/^GET \/b\/blob\.bin\?X-Amz-Signature=secret HTTP\/1\.1\r\n/);
  });

  it("fails when the file cannot be made (its directory is a file), naming the destination", async () => {
    const body = bytesOf(3 * MiB, 8);
    const s = await fixture.serve(async (c) => {
      await c.send(head("200 OK", `Content-Length: ${body.length}`));
      await c.stream(body);
      await c.end();
    });
    fs.writeFileSync(path.join(fixture.dir, "file"), "not a directory");
    const dest = path.join(fixture.dir, "file", "blob");
    const err = await rejection(getFile(`${s.origin}/k?sig=1`, dest));
    expect(err).toBeInstanceOf(BlobTransferError);
    expect(err).toMatchObject({ status: undefined });
    expect((err as Error).message).toMatch(
      new RegExp(`^GET ${s.origin}/k into ${dest} failed: (EEXIST|ENOTDIR)`),
    );
    // Node's http path (a file known to be small) fails the same way.
    const small = await rejection(getFile(`${s.origin}/k?sig=1`, dest, { size: 3 }));
    expect(small).toBeInstanceOf(BlobTransferError);
    expect((small as Error).message).toMatch(
      new RegExp(`^GET ${s.origin}/k into ${dest} failed: .*(EEXIST|ENOTDIR)`),
    );
    expect(filesIn(fixture.dir)).toEqual(["file"]);
  });

  it("creates an empty file for an empty body", async () => {
    const s = await fixture.serve(answer(head("200 OK", "Content-Length: 0")));
    const dest = path.join(fixture.dir, "empty");
    await getFile(`${s.origin}/empty`, dest);
    expect(fs.readFileSync(dest).length).toBe(0);
  });

  it("refuses a body whose length is not the size it was told", async () => {
    const s = await fixture.serve(answer(`${head("200 OK", "Content-Length: 5")}12345`));
    const err = await rejection(
      getFile(`${s.origin}/k?sig=1`, path.join(fixture.dir, "f"), { size: 2 * MiB }),
    );
    expect(err).toBeInstanceOf(BlobTransferError);
    expect((err as Error).message).toBe(
      `GET ${s.origin}/k: received 5 bytes, expected ${2 * MiB} (the transfer was cut short)`,
    );
    expect(filesIn(fixture.dir)).toEqual([]);
  });
});

describe("a refusal", () => {
  it("404 is BlobNotFoundError with its reason, the URL without its query, and no file or directory made", async () => {
    const reason = "<Error><Code>NoSuchKey</Code></Error>";
    const s = await fixture.serve(
      answer(`${head("404 Not Found", `Content-Length: ${reason.length}`)}${reason}`),
    );
    expect(await directGet(new URL(`${s.origin}/k`), memoryFile().open)).toEqual({
      ok: false,
      status: 404,
      reason,
    });
    const dest = path.join(fixture.dir, "never", "made");
    const err = await rejection(getFile(`${s.origin}/b/k?X-Amz-Signature=secret`, dest));
    expect(err).toBeInstanceOf(BlobNotFoundError);
    expect(err).toMatchObject({ status: 404, message: `GET ${s.origin}/b/k failed: HTTP 404 ${reason}` });
    expect(fs.existsSync(path.join(fixture.dir, "never"))).toBe(false);
  });

  it("403 with a long body gives its first 2 KiB as the reason (framed by length, chunked or the end)", async () => {
    const long = "AccessDenied: ".padEnd(10_000, "x");
    for (const script of [
      answer(`${head("403 Forbidden", `Content-Length: ${long.length}`)}${long}`),
      answer(`${head("403 Forbidden", "Transfer-Encoding: chunked")}${chunked(Buffer.from(long), [1000])}`),
      answer(`${head("403 Forbidden")}${long}`),
    ]) {
      const s = await fixture.serve(script);
      const file = memoryFile();
      const got = await directGet(new URL(`${s.origin}/k`), file.open);
      expect(got).toMatchObject({ ok: false, status: 403 });
      expect((got as { reason: string }).reason.startsWith(long.slice(0, 2048))).toBe(true);
      expect(file.opens).toBe(0);
      const err = await rejection(getFile(`${s.origin}/k?sig=1`, path.join(fixture.dir, "f")));
      expect(err).toBeInstanceOf(BlobTransferError);
      expect(err).not.toBeInstanceOf(BlobNotFoundError);
      expect(err).toMatchObject({
        status: 403,
        message: `GET ${s.origin}/k failed: HTTP 403 ${long.slice(0, 2048)}`,
      });
      await s.close();
    }
    expect(filesIn(fixture.dir)).toEqual([]);
  });

  it("gives what arrived as the reason when the connection ends before the announced length", async () => {
    const s = await fixture.serve(answer(`${head("503 Slow Down", "Content-Length: 5000")}  try later \n`));
    const err = await rejection(getFile(`${s.origin}/k`, path.join(fixture.dir, "f")));
    expect(err).toMatchObject({ status: 503, message: `GET ${s.origin}/k failed: HTTP 503 try later` });
  });

  it("reads the same texts as Node's http path (taken for files known to be small)", async () => {
    const bodies = [
      ["404 Not Found", "NoSuchKey"],
      ["403 Forbidden", `\n  ${"é".repeat(3000)}`],
      ["500 Internal Server Error", `\uFEFF<?xml version="1.0"?>${"<E/>".repeat(800)}`],
      ["410 Gone", ""],
    ] as const;
    for (const [status, text] of bodies) {
      const bytes = Buffer.from(text);
      const s = await fixture.serve(answer(`${head(status, `Content-Length: ${bytes.length}`)}${text}`));
      const url = `${s.origin}/k?sig=1`;
      const viaHttp = await rejection(getFile(url, path.join(fixture.dir, "a"), { size: 10 }));
      const direct = await rejection(getFile(url, path.join(fixture.dir, "b")));
      expect(direct, status).toBeInstanceOf((viaHttp as object).constructor);
      expect((direct as Error).message, status).toBe((viaHttp as Error).message);
      await s.close();
    }
  });
});

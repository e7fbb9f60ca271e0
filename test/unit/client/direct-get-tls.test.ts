// directGet over TLS against a scripted raw server whose certificate is made with openssl for this run: trusted
// through the CA given (by IP address and by host name), refused without it, with a file slower than the socket (TLS
// hands over decrypted bytes after reading pauses), and through getFile with trustTransferCa.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DirectGetError, directGet } from "../../../client/direct-get.js";
import { BlobTransferError } from "../../../client/errors.js";
import { getFile, trustTransferCa } from "../../../client/http-transfer.js";
import { createTestCerts, type TestCerts } from "../../support/test-certs.js";
import {
  bytesOf,
  type Conn,
  chunked,
  head,
  memoryFile,
  type RawServer,
  type Script,
  sha256,
  startRawServer,
} from "./raw-http-server.js";

const MiB = 1024 * 1024;
const hasOpenssl = spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0;

describe.skipIf(!hasOpenssl)(
  "directGet over TLS (skipped when openssl is not on PATH to make a certificate)",
  () => {
    let certs: TestCerts;
    let tlsOpts: { cert: Buffer; key: Buffer };
    let ca: string;
    let server: RawServer | undefined;
    beforeAll(() => {
      certs = createTestCerts();
      const { cert, key } = certs.issue("server");
      tlsOpts = { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
      ca = fs.readFileSync(certs.caFile, "utf8");
    });
    afterAll(() => certs.remove());
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    const serve = async (script: Script) => {
      server = await startRawServer(script, tlsOpts);
      return server;
    };
    const withLength =
      (body: Buffer): Script =>
      async (c: Conn) => {
        await c.send(head("200 OK", `Content-Length: ${body.length}`));
        await c.stream(body, [16_384, 100_000, 7]);
        await c.end();
      };

    it("gets a body over a certificate signed by the CA given, by address and by host name", async () => {
      const body = bytesOf(5 * MiB + 3, 21);
      const s = await serve(withLength(body));
      for (const host of ["127.0.0.1", "localhost"]) {
        const file = memoryFile();
        const got = await directGet(new URL(`https://${host}:${s.port}/k`), file.open, { ca: [ca] });
        expect(got, host).toEqual({
          ok: true,
          received: body.length,
          announced: body.length,
          complete: true,
        });
        expect(sha256(file.bytes())).toBe(sha256(body));
      }
      expect(s.requests.map((r) => r.split("\r\n")[1])).toEqual([
        `Host: 127.0.0.1:${s.port}`,
        `Host: localhost:${s.port}`,
      ]);
    });

    it("refuses the server's certificate without its CA, before any answer", async () => {
      const s = await serve(withLength(Buffer.from("x")));
      const file = memoryFile();
      const err = await directGet(new URL(`${s.origin}/k`), file.open).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectGetError);
      expect(err).toMatchObject({ answered: false });
      expect((err as Error).message).toMatch(/certificate|self.signed/i);
      expect(file.opens).toBe(0);
    });

    it("gets 20 MiB into a file slower than the socket (chunked, and ended by the connection)", async () => {
      const body = bytesOf(20 * MiB + 1, 22);
      for (const script of [
        async (c: Conn) => {
          await c.send(head("200 OK", "Transfer-Encoding: chunked"));
          await c.stream(chunked(body, [MiB + 1, 10, 70_000]), [MiB]);
          await c.end();
        },
        async (c: Conn) => {
          await c.send(head("200 OK"));
          await c.stream(body, [MiB]);
          await c.end();
        },
      ]) {
        const s = await serve(script);
        const file = memoryFile({ delayMs: 15, maxWrite: 512 * 1024 });
        const got = await directGet(new URL(`${s.origin}/k`), file.open, { ca: [ca] });
        expect(got).toMatchObject({ ok: true, received: body.length, complete: true });
        expect(sha256(file.bytes())).toBe(sha256(body));
        await s.close();
      }
    }, 30_000);

    it("reads a refusal's reason over TLS", async () => {
      const s = await serve(async (c) => {
        await c.send(head("403 Forbidden", "Content-Length: 12"), "AccessDenied");
      });
      expect(await directGet(new URL(`${s.origin}/k`), memoryFile().open, { ca: [ca] })).toEqual({
        ok: false,
        status: 403,
        reason: "AccessDenied",
      });
    });

    it("getFile trusts a CA given with trustTransferCa", async () => {
      const body = bytesOf(2 * MiB + 9, 23);
      const s = await serve(withLength(body));
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-direct-get-tls-"));
      try {
        const dest = path.join(dir, "blob");
        const untrusted = await getFile(`${s.origin}/k?sig=1`, dest).catch((e: unknown) => e);
        expect(untrusted).toBeInstanceOf(BlobTransferError);
        expect((untrusted as Error).message).toMatch(new RegExp(`^GET ${s.origin}/k failed: `));
        trustTransferCa(ca);
        await getFile(`${s.origin}/k?sig=1`, dest);
        expect(sha256(fs.readFileSync(dest))).toBe(sha256(body));
        expect(fs.readdirSync(dir)).toEqual(["blob"]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

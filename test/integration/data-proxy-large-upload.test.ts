// A 1 GiB upload through a signed URL streams: `petrel serve` runs as a child process and its peak resident set
// (/proc VmHWM) barely moves while the whole body passes through it into the local store.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { DATA_PROXY_ENV, P, storeOf } from "../support/data-proxy.js";
import { startServerProcess } from "../support/server-process.js";
import { createTestDatabase } from "../support/test-database.js";

describe("a 1 GiB upload", () => {
  /** Peak and current resident set of a process, in MiB (Linux /proc). */
  function memory(pid: number): { peak: number; now: number } {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { peak: kib("VmHWM") / 1024, now: kib("VmRSS") / 1024 };
  }

  it("streams through the server process without holding the body", async () => {
    const database = await createTestDatabase();
    const serverHome = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-data-proxy-1g-"));
    const child = await startServerProcess([], {
      DATABASE_URL: database.url,
      ...DATA_PROXY_ENV,
      PETREL_HOME: serverHome,
    });
    try {
      const pid = child.child.pid ?? 0;
      const client = createClient(
        DataProxyService,
        createGrpcTransport({ baseUrl: `http://127.0.0.1:${child.grpcPort}` }),
      );
      const chunk = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
      const CHUNKS = 1024;
      const hash = createHash("md5");
      for (let i = 0; i < CHUNKS; i++) hash.update(chunk);
      const digest = hash.digest();
      const loc = await client.createUploadLocation({
        ...P,
        contentMd5: digest,
        filename: "1gib.bin",
        addContentMd5Metadata: true,
      });
      const before = memory(pid);
      async function* body() {
        for (let i = 0; i < CHUNKS; i++) yield chunk;
      }
      const res = await fetch(loc.signedUrl, {
        method: "PUT",
        body: ReadableStream.from(body()),
        headers: { "Content-Length": String(CHUNKS * chunk.length), ...loc.headers },
        duplex: "half",
      } as RequestInit);
      expect(res.status).toBe(200);
      const after = memory(pid);
      const info = await storeOf(loc.nativeUrl).head(loc.nativeUrl);
      expect({ size: info?.size, md5: Buffer.from(info?.contentMd5 ?? []) }).toEqual({
        size: 1024 ** 3,
        md5: digest,
      });
      // A server that held the body would peak above 1 GiB; a streaming one barely moves (~150 → ~180 MiB here).
      const seen = `server RSS MiB before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`;
      expect(after.peak, seen).toBeLessThan(before.peak + 128);
      expect(after.peak, seen).toBeLessThan(400);
    } finally {
      await child.stop();
      await database.drop();
      fs.rmSync(serverHome, { recursive: true, force: true });
    }
  });
});

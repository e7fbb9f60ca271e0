// TLS on both ports from certificate files: the TS client (gRPC and Connect) and grpc-js trusting a CA file, plain
// connections refused, and a renewed certificate served after a reload (what SIGHUP does).
import fs from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FriendlyRemote } from "../../client/friendly-remote.js";
import { SynchronousClient } from "../../client/synchronous-client.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { createTestCerts, type TestCerts } from "../support/test-certs.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let certs: TestCerts;
let t: TestServer;
let served: { cert: string; key: string };

/** The CN of the certificate the port presents to a new connection. */
function peerName(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca, ALPNProtocols: ["h2", "http/1.1"] }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(String(cn));
    });
    socket.once("error", reject);
  });
}

beforeAll(async () => {
  certs = createTestCerts();
  served = certs.issue("first");
  t = await startTestServer({ env: { PETREL_TLS_CERT: served.cert, PETREL_TLS_KEY: served.key } });
});
afterAll(async () => {
  await t?.stop();
  certs?.remove();
});

describe("TLS", () => {
  it("serves gRPC to clients that trust the CA file", async () => {
    const client = SynchronousClient.connect({
      endpoint: `127.0.0.1:${t.server.grpcPort}`,
      caFile: certs.caFile,
    });
    await client.registerProject({ project: { id: "secure", name: "secure" } });
    expect((await client.getProject({ id: "secure" })).name).toBe("secure");
    const grpcJs = createGrpcJsClient(
      AdminService,
      `127.0.0.1:${t.server.grpcPort}`,
      grpc.credentials.createSsl(fs.readFileSync(certs.caFile)),
    );
    try {
      expect((await grpcJs.unary("getProject", { id: "secure" })).id).toBe("secure");
    } finally {
      grpcJs.close();
    }
  });

  it("serves Connect on the HTTP port over TLS", async () => {
    const client = SynchronousClient.connect({
      endpoint: `https://127.0.0.1:${t.server.httpPort}`,
      caFile: certs.caFile,
      transport: "connect",
    });
    expect((await client.listProjects({})).projects.map((p) => p.id)).toContain("secure");
  });

  it("moves files through the signed blob URLs over TLS, trusting the same CA file", async () => {
    const remote = FriendlyRemote.forEndpoint(`127.0.0.1:${t.server.grpcPort}`, {
      caFile: certs.caFile,
      project: "secure",
      domain: "development",
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-tls-files-"));
    try {
      fs.writeFileSync(path.join(dir, "in.txt"), "over tls\n");
      const uri = await remote.upload(path.join(dir, "in.txt"));
      await remote.download(uri, path.join(dir, "out.txt"));
      expect(fs.readFileSync(path.join(dir, "out.txt"), "utf8")).toBe("over tls\n");
    } finally {
      await remote.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers browsers on the gRPC port (flytekit's console links) with HTTP/1.1 or HTTP/2, as ALPN chose", async () => {
    const ca = fs.readFileSync(certs.caFile);
    const page = "/console/projects/secure/domains/development/executions/e";
    const options: https.RequestOptions & tls.ConnectionOptions = {
      host: "127.0.0.1",
      port: t.server.grpcPort,
      path: page,
      ca,
      agent: false,
      ALPNProtocols: ["http/1.1"],
    };
    const h1 = await new Promise<[string | undefined, string | false | null]>((resolve, reject) => {
      https
        .get(options, (res) => {
          res.resume();
          resolve([res.headers["content-type"], (res.socket as tls.TLSSocket).alpnProtocol]);
        })
        .on("error", reject);
    });
    expect(h1).toEqual(["text/html; charset=utf-8", "http/1.1"]);
    // A browser offers h2 first and gets it: the console's pages are served over HTTP/2 too.
    const session = http2.connect(`https://127.0.0.1:${t.server.grpcPort}`, { ca });
    try {
      const type = await new Promise((resolve, reject) => {
        const stream = session.request({ ":path": page });
        stream.on("response", (h) => resolve(h["content-type"]));
        stream.on("error", reject);
        stream.resume();
      });
      expect(type).toBe("text/html; charset=utf-8");
    } finally {
      session.close();
    }
  });

  it("refuses clients that do not trust the CA, and plaintext ones", async () => {
    const untrusting = SynchronousClient.connect({
      endpoint: `127.0.0.1:${t.server.grpcPort}`,
      maxAttempts: 1,
    });
    await expect(untrusting.listProjects({})).rejects.toThrow();
    const plain = SynchronousClient.connect({
      endpoint: `127.0.0.1:${t.server.grpcPort}`,
      insecure: true,
      maxAttempts: 1,
    });
    await expect(plain.listProjects({})).rejects.toThrow();
  });

  it("serves a renewed certificate to new connections after a reload", async () => {
    const ca = fs.readFileSync(certs.caFile);
    expect(await peerName(t.server.grpcPort, ca)).toBe("first");
    const next = certs.issue("second");
    fs.copyFileSync(next.cert, served.cert);
    fs.copyFileSync(next.key, served.key);
    expect(t.server.reloadTls()).toBe(true);
    expect(await peerName(t.server.grpcPort, ca)).toBe("second");
    expect(await peerName(t.server.httpPort, ca)).toBe("second");
    const client = SynchronousClient.connect({
      endpoint: `127.0.0.1:${t.server.grpcPort}`,
      caFile: certs.caFile,
    });
    expect((await client.getProject({ id: "secure" })).id).toBe("secure");
  });

  it("keeps the current pair when the files are unusable", async () => {
    fs.writeFileSync(served.key, "not a key");
    expect(() => t.server.reloadTls()).toThrow();
    expect(await peerName(t.server.httpPort, fs.readFileSync(certs.caFile))).toBe("second");
  });
});

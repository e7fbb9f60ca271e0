// The server serves the console: on the HTTP port and on the gRPC port's HTTP/1.1 side (flytekit prints console
// links on its admin endpoint), where the app's own Connect calls work too; its files are public behind auth, the
// rpcs are not. (test/integration/tls.test.ts: the gRPC port over TLS; the browser tests: console-*.test.ts.)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { hashApiKey } from "../../server/auth/api-keys.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const INDEX =
  '<!doctype html><div id="root"></div><script type="module" src="/console/assets/index-T3st.js"></script>';
const API_KEY = "console-test-key-0123456789";
let dir: string;
let open: TestServer;
let guarded: TestServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-console-build-"));
  fs.mkdirSync(path.join(dir, "assets"));
  fs.writeFileSync(path.join(dir, "index.html"), INDEX);
  fs.writeFileSync(path.join(dir, "assets", "index-T3st.js"), "export {};\n");
  open = await startTestServer({ start: { consoleDir: dir } });
  guarded = await startTestServer({
    start: { consoleDir: dir },
    env: { PETREL_API_KEYS: `ci:${hashApiKey(API_KEY)}` },
  });
  await open.admin.registerProject({ project: { id: "shown", name: "shown" } });
});

afterAll(async () => {
  await open?.stop();
  await guarded?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ports = (t: TestServer) =>
  [
    ["HTTP port", t.httpBaseUrl],
    ["gRPC port", `http://${t.grpcAddress}`],
  ] as const;

describe("the console on a running server", () => {
  it("is served on both ports at flyteconsole's URLs, with / leading to it", async () => {
    for (const [port, base] of ports(open)) {
      const page = await fetch(`${base}/console/projects/shown/domains/development/executions/abc`);
      expect([port, page.status, await page.text()]).toEqual([port, 200, INDEX]);
      const script = await fetch(`${base}/console/assets/index-T3st.js`);
      expect([port, script.status, script.headers.get("cache-control")]).toEqual([
        port,
        200,
        "public, max-age=31536000, immutable",
      ]);
      await script.arrayBuffer();
      const root = await fetch(`${base}/`, { redirect: "manual" });
      expect([port, root.status, root.headers.get("location")]).toEqual([port, 302, "/console/"]);
    }
  });

  it("answers the app's Connect and gRPC-Web calls on the gRPC port as on the HTTP port", async () => {
    for (const [port, baseUrl] of ports(open)) {
      for (const transport of [
        createConnectTransport({ baseUrl, httpVersion: "1.1" }),
        createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
      ]) {
        const { projects } = await createClient(AdminService, transport).listProjects({});
        expect([port, projects.map((p) => p.id)]).toEqual([port, ["shown"]]);
      }
    }
    // gRPC itself is unchanged on the same port.
    expect((await open.grpcJs.unary("listProjects", {})).projects).toHaveLength(1);
  });

  it("serves its files without a token behind auth; the rpcs still want one", async () => {
    for (const [port, baseUrl] of ports(guarded)) {
      const page = await fetch(`${baseUrl}/console/`);
      expect([port, page.status]).toEqual([port, 200]);
      await page.arrayBuffer();
      const anonymous = createClient(AdminService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
      await expectCode(anonymous.listProjects({}), Code.Unauthenticated);
      const signedIn = createClient(
        AdminService,
        createConnectTransport({
          baseUrl,
          httpVersion: "1.1",
          interceptors: [
            (next) => (req) => {
              req.header.set("authorization", `Bearer ${API_KEY}`);
              return next(req);
            },
          ],
        }),
      );
      expect((await signedIn.listProjects({})).projects).toBeDefined();
    }
  });
});

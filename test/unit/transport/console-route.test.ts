// The console's files over a plain HTTP server: content types, caching, the app's index.html for its own paths,
// the way to /console/, nothing from outside the directory, HEAD and 304s, and the page saying how to build it.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleBaseOf, executionConsoleUrl } from "../../../common/console-urls.js";
import { createLogger } from "../../../server/logger.js";
import { consoleRoute } from "../../../server/transport/console-route.js";
import { runRoute } from "../../../server/transport/http-routes.js";

let tmp: string;
let built: http.Server;
let empty: http.Server;
let base: string;
let emptyBase: string;

async function serve(dir: string): Promise<[http.Server, string]> {
  const route = consoleRoute(dir);
  const server = http.createServer((req, res) => {
    if (!runRoute(route, req, res, createLogger("silent"))) res.writeHead(418).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
}

/** A raw request line (fetch would normalise `..` away). */
function rawGet(url: string, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { path: target }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", reject);
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-console-route-"));
  const dir = path.join(tmp, "console");
  fs.mkdirSync(path.join(dir, "assets"), { recursive: true });
  fs.writeFileSync(path.join(dir, "index.html"), "<!doctype html><div id=root></div>");
  fs.writeFileSync(path.join(dir, "assets", "index-Ab12.js"), "export {};");
  fs.writeFileSync(path.join(dir, "assets", "index-Cd34.css"), "body{}");
  fs.writeFileSync(path.join(dir, "favicon.svg"), "<svg/>");
  fs.writeFileSync(path.join(tmp, "secret.txt"), "secret");
  fs.symlinkSync(path.join(tmp, "secret.txt"), path.join(dir, "link.txt"));
  [built, base] = await serve(dir);
  [empty, emptyBase] = await serve(path.join(tmp, "missing"));
});

afterAll(async () => {
  await Promise.all([built, empty].map((s) => new Promise((r) => s.close(r))));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("the console route", () => {
  it("serves files with their content type; hashed assets are immutable, the rest revalidated", async () => {
    const cases = [
      [
        "/console/assets/index-Ab12.js",
        "text/javascript; charset=utf-8",
        "public, max-age=31536000, immutable",
      ],
      ["/console/assets/index-Cd34.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable"],
      ["/console/favicon.svg", "image/svg+xml", "no-cache"],
      ["/console/", "text/html; charset=utf-8", "no-cache"],
    ];
    for (const [url, type, cache] of cases) {
      const res = await fetch(`${base}${url}`);
      expect([url, res.status, res.headers.get("content-type"), res.headers.get("cache-control")]).toEqual([
        url,
        200,
        type,
        cache,
      ]);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      await res.arrayBuffer();
    }
  });

  it("answers the app's index.html for any path of the app, and sends / to /console/", async () => {
    for (const url of ["/console", "/console/projects/p/domains/d/executions/e", "/console/x.js?y=1"]) {
      const res = await fetch(`${base}${url}`);
      expect([url, res.status, await res.text()]).toEqual([url, 200, "<!doctype html><div id=root></div>"]);
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    }
    const root = await fetch(`${base}/`, { redirect: "manual" });
    expect([root.status, root.headers.get("location")]).toEqual([302, "/console/"]);
    expect((await fetch(`${base}/consoles`)).status).toBe(418); // not its path
    expect((await fetch(`${base}/`, { method: "POST" })).status).toBe(418);
  });

  it("never serves what is outside its directory", async () => {
    expect((await fetch(`${base}/console/assets/missing-Zz99.js`)).status).toBe(404);
    expect(await rawGet(base, "/console/../secret.txt")).toBe(400);
    expect(await rawGet(base, "/console/assets/..%2f..%2fsecret.txt")).toBe(400);
    expect(await rawGet(base, "/console/%2e%2e/secret.txt")).toBe(400);
    expect(await rawGet(base, "/console/a%00b")).toBe(400);
    expect(await rawGet(base, "/console/%E0%A4%A")).toBe(400);
    // A link out of the directory is not followed: the app's page instead.
    const linked = await fetch(`${base}/console/link.txt`);
    expect(await linked.text()).not.toContain("secret");
  });

  it("answers HEAD without a body, 304 to a matching ETag, 405 to other methods", async () => {
    const head = await fetch(`${base}/console/assets/index-Ab12.js`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), await head.text()]).toEqual([200, "10", ""]);
    const etag = head.headers.get("etag") ?? "";
    expect(etag).toMatch(/^W\/"/);
    const again = await fetch(`${base}/console/assets/index-Ab12.js`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    const post = await fetch(`${base}/console/`, { method: "POST" });
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
  });

  it("says how to build the console when it is not built", async () => {
    for (const url of ["/console/", "/console/projects/p"]) {
      const res = await fetch(`${emptyBase}${url}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(await res.text()).toContain("npm run build");
    }
  });
});

describe("console URLs", () => {
  it("follow flyteconsole's scheme under a base, or under a gRPC endpoint as flytekit derives it", () => {
    const id = { project: "p", domain: "d", name: "a b" };
    expect(executionConsoleUrl("https://x.example/", id)).toBe(
      "https://x.example/console/projects/p/domains/d/executions/a%20b",
    );
    expect(consoleBaseOf("localhost:8089", true)).toBe("http://localhost:8089");
    expect(consoleBaseOf("petrel.example:443", false)).toBe("https://petrel.example:443");
    expect(consoleBaseOf("https://petrel.example/", false)).toBe("https://petrel.example");
  });
});

// The web console's files at /console on the HTTP port (and on the gRPC port's HTTP/1.1 side, where flytekit's
// links lead): the built single-page app, any /console path that is not one of its files answered with its
// index.html (the app routes in the browser), `/` sent to /console/. The files hold no data, so they are public;
// the rpcs the app calls enforce authentication.
import fs from "node:fs/promises";
import type http from "node:http";
import path from "node:path";
import { PACKAGE_ROOT } from "../build-info.js";
import { type AnyRequest, type AnyResponse, answerPlain } from "./http-failure.js";
import type { HttpRoute } from "./http-routes.js";

/** Where `npm run build` puts the console (`vite build --config console/vite.config.ts`). */
export const CONSOLE_DIR = path.join(PACKAGE_ROOT, "dist", "console");

const PREFIX = "/console";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
};

/** Vite names what is under assets/ by content hash: such a file never changes under its name. */
const IMMUTABLE = "public, max-age=31536000, immutable";

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Petrel console not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 42em; margin: 3em auto; line-height: 1.5">
<h1>The Petrel console is not built</h1>
<p>Its files are missing from <code>dist/console</code> in the Petrel package. In a checkout, build them with
<code>npm run build</code>, or only the console with <code>npx vite build --config console/vite.config.ts</code>;
<code>npm start</code> builds them when they are missing or older than their sources.</p>
<p>The server itself is running: its rpcs answer on this port and on the gRPC port.</p>
</body></html>
`;

interface Found {
  readonly file: string;
  readonly stat: { readonly size: number; readonly mtimeMs: number };
}

/** The regular file at `file` when it is inside `root` once symbolic links are resolved; undefined otherwise. */
async function fileInside(root: string, file: string): Promise<Found | undefined> {
  try {
    const real = await fs.realpath(file);
    if (!real.startsWith(root + path.sep)) return undefined;
    const stat = await fs.stat(real);
    return stat.isFile() ? { file: real, stat } : undefined;
  } catch {
    return undefined;
  }
}

/** Writes an answer; HTTP/2's compatibility response takes the same calls. */
function answer(res: AnyResponse, status: number, headers: http.OutgoingHttpHeaders, body?: string | Buffer) {
  (res as http.ServerResponse).writeHead(status, headers);
  if (body === undefined) res.end();
  else res.end(body);
}

function send(req: AnyRequest, res: AnyResponse, found: Found, immutable: boolean, body: Buffer | undefined) {
  const etag = `W/"${found.stat.size.toString(16)}-${Math.floor(found.stat.mtimeMs).toString(16)}"`;
  const headers: http.OutgoingHttpHeaders = {
    "content-type": TYPES[path.extname(found.file).toLowerCase()] ?? "application/octet-stream",
    "cache-control": immutable ? IMMUTABLE : "no-cache",
    etag,
    "x-content-type-options": "nosniff",
  };
  if (headers["content-type"] === TYPES[".html"]) {
    // The console steers executions: no other site may frame it.
    headers["x-frame-options"] = "DENY";
    headers["content-security-policy"] = "frame-ancestors 'none'";
  }
  if (req.headers["if-none-match"] === etag) return answer(res, 304, headers);
  answer(res, 200, { ...headers, "content-length": found.stat.size }, body);
}

/** The file a /console path names, or the app's index.html for a path of the app; 4xx answers otherwise. */
async function serveConsole(
  root: string,
  relative: string,
  req: AnyRequest,
  res: AnyResponse,
): Promise<void> {
  const index = await fileInside(root, path.join(root, "index.html"));
  if (index === undefined) {
    const headers = { "content-type": TYPES[".html"], "cache-control": "no-cache" };
    return answer(res, 404, headers, req.method === "HEAD" ? undefined : NOT_BUILT);
  }
  const named = relative === "" ? undefined : await fileInside(root, path.resolve(root, relative));
  // A missing hashed asset is a stale page asking for an old build's file: a 404, not the app's HTML.
  if (named === undefined && relative.startsWith("assets/")) {
    answerPlain(res, 404, "not found\n");
    return;
  }
  const found = named ?? index;
  const immutable = path.relative(root, found.file).startsWith(`assets${path.sep}`);
  send(req, res, found, immutable, req.method === "HEAD" ? undefined : await fs.readFile(found.file));
}

/** The path under /console, decoded; undefined when it is not valid or would leave the directory. */
function consolePath(pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname.slice(PREFIX.length + 1));
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  if (decoded.split("/").some((segment) => segment === "..")) return undefined;
  return decoded;
}

/**
 * The console's route, on HTTP/1.1 and HTTP/2 (browsers negotiate HTTP/2 with the gRPC port over TLS); `dir` holds
 * the built app (default: the package's dist/console).
 */
export function consoleRoute(dir: string = CONSOLE_DIR): HttpRoute<AnyRequest, AnyResponse> {
  // The directory with symbolic links resolved, once it exists (files are checked against it).
  let root: string | undefined;
  const resolveRoot = async () => {
    root ??= await fs.realpath(dir).catch(() => undefined);
    return root ?? path.resolve(dir);
  };
  return (req, res) => {
    const pathname = (req.url ?? "").split("?")[0] ?? "";
    const isConsole = pathname === PREFIX || pathname.startsWith(`${PREFIX}/`);
    if (pathname !== "/" && !isConsole) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      if (!isConsole) return false;
      answer(
        res,
        405,
        { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
        "method not allowed\n",
      );
      return true;
    }
    if (!isConsole) {
      answer(res, 302, { location: `${PREFIX}/` });
      return true;
    }
    const relative = pathname === PREFIX ? "" : consolePath(pathname);
    if (relative === undefined) {
      answerPlain(res, 400, "bad request: not a console path\n");
      return true;
    }
    return resolveRoot().then((r) => serveConsole(r, relative, req, res));
  };
}

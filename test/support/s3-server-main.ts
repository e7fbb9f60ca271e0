// The S3-compatible test server, run as a child process (s3-test-server.ts starts it): s3rver from the npm registry
// (a real S3 REST server over the filesystem) behind a small front that adds what s3rver leaves out and S3 does:
// it checks Signature V4 (s3rver accepts any V4 signature), refuses a body whose MD5 is not its Content-MD5
// (BadDigest), and aborts multipart uploads (s3rver answers 405 to AbortMultipartUpload). Everything else is s3rver's.
// Prints `{"port":N}` once listening; exits when its stdin closes (its parent is gone) or on SIGTERM.
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import S3rver from "s3rver";
import { checkSigV4 } from "./sigv4-check.js";

const directory = process.env.S3_TEST_DIR ?? "";
const bucket = process.env.S3_TEST_BUCKET ?? "petrel-test";
// s3rver's one account.
const SECRETS: Readonly<Record<string, string>> = { S3RVER: "S3RVER" };

const s3rver = new S3rver({
  address: "127.0.0.1",
  port: 0,
  directory,
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
});
const { port: backendPort } = await s3rver.run();

function fail(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "application/xml" });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  );
}

function forward(req: http.IncomingMessage, res: http.ServerResponse, body?: Buffer): void {
  const upstream = http.request(
    { host: "127.0.0.1", port: backendPort, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", () => res.destroy());
  if (body === undefined) req.pipe(upstream);
  else upstream.end(body);
}

async function collect(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const front = http.createServer((req, res) => {
  const verdict = checkSigV4(req.method ?? "GET", req.url ?? "/", req.headers, (k) => SECRETS[k]);
  if (!verdict.ok) {
    req.resume();
    fail(res, 403, verdict.code, verdict.message);
    return;
  }
  const url = new URL(req.url ?? "/", "http://placeholder");
  const uploadId = url.searchParams.get("uploadId");
  if (req.method === "DELETE" && uploadId !== null) {
    // AbortMultipartUpload: drop the parts s3rver keeps under <dir>/<bucket>/._S3rver_uploads/<id>.
    const target = decodeURIComponent(url.pathname.split("/")[1] ?? "");
    if (!/^[0-9a-f]+$/.test(uploadId)) return fail(res, 404, "NoSuchUpload", "no such upload");
    rm(path.join(directory, target, "._S3rver_uploads", uploadId), { recursive: true, force: true }).then(
      () => {
        res.writeHead(204);
        res.end();
      },
      () => fail(res, 500, "InternalError", "could not abort the upload"),
    );
    return;
  }
  const contentMd5 = req.headers["content-md5"];
  if (req.method !== "PUT" || typeof contentMd5 !== "string") return forward(req, res);
  collect(req).then(
    (body) => {
      if (createHash("md5").update(body).digest("base64") !== contentMd5) {
        return fail(res, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
      }
      forward(req, res, body);
    },
    () => res.destroy(),
  );
});

await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
const address = front.address();
process.stdout.write(
  `${JSON.stringify({ port: typeof address === "object" && address !== null ? address.port : 0 })}\n`,
);

async function shutdown(): Promise<void> {
  front.close();
  front.closeAllConnections();
  await s3rver.close();
  process.exit(0);
}
process.stdin.on("end", () => void shutdown());
process.stdin.resume();
process.on("SIGTERM", () => void shutdown());

// Starts the S3-compatible test server (s3-server-main.ts: s3rver behind a Signature-V4 and Content-MD5 checking
// front) as a child process on a free port, with its data in a fresh temporary directory.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

export interface S3TestServer {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Multipart uploads started and neither completed nor aborted. */
  pendingUploads(): Promise<string[]>;
  stop(): Promise<void>;
}

const MAIN = path.resolve(import.meta.dirname, "s3-server-main.ts");

export async function startS3TestServer(bucket = "petrel-test"): Promise<S3TestServer> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "petrel-s3-"));
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider: without
  // it every truncated listing page is an InternalError.
  const child: ChildProcess = spawn(
    process.execPath,
    ["--openssl-legacy-provider", "--import", "tsx", MAIN],
    {
      env: { ...process.env, S3_TEST_DIR: directory, S3_TEST_BUCKET: bucket },
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`the S3 test server exited (${code}) before listening`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: "us-east-1",
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    pendingUploads: () =>
      readdir(path.join(directory, bucket, "._S3rver_uploads")).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return [];
        throw err;
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.stdin?.end();
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

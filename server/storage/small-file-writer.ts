// Small files written on a worker thread with plain synchronous system calls (make the directory, write a temporary
// file, rename it over the target), a batch per message. The same files written with the promise-based fs API cost
// the event loop more CPU than the rest of an execution's work (a FileHandle, a promise and a thread-pool round trip
// per call, five calls per file); here the loop only posts the batch. Not durable by itself: the caller flushes the
// file system afterwards (LocalBlobStore.flush). One worker, started on first use, never keeps the process alive.
import { Worker } from "node:worker_threads";

// Plain CommonJS evaluated in the worker (no TypeScript loader there, under tsx or from dist alike).
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
const { randomBytes } = require("node:crypto");
// Directories known to exist. A new directory is made level by level from its nearest known ancestor, each mkdir
// expected to succeed (a recursive mkdir tries the deepest level first and climbs on ENOENT: half again as many calls).
const made = new Set();
const MAX_MADE = 16384;
function remember(dir) {
  if (made.size >= MAX_MADE) made.clear();
  made.add(dir);
}
function makeDirectory(dir, surely) {
  const missing = [];
  for (let d = dir; !made.has(d); d = path.dirname(d)) {
    if (surely || path.dirname(d) === d || missing.length >= 8) {
      // Nothing known near it (the first write, a cleared cache, a directory removed meanwhile): made at once, and
      // it and its parents are known from now on.
      fs.mkdirSync(dir, { recursive: true });
      for (let a = dir; path.dirname(a) !== a; a = path.dirname(a)) remember(a);
      return;
    }
    missing.push(d);
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      fs.mkdirSync(missing[i]);
    } catch (err) {
      if (!err || err.code !== "EEXIST" || !fs.statSync(missing[i]).isDirectory()) throw err;
    }
    remember(missing[i]);
  }
}
function writeOne(file, data, tempPrefix, retried) {
  const dir = path.dirname(file);
  const temp = path.join(dir, tempPrefix + randomBytes(8).toString("hex"));
  try {
    if (retried || !made.has(dir)) makeDirectory(dir, retried);
    fs.writeFileSync(temp, data, { flag: "wx", mode: 0o644 });
    fs.renameSync(temp, file);
  } catch (err) {
    try { fs.unlinkSync(temp); } catch {}
    // A directory removed meanwhile (retention): what is known is forgotten, and the file written again once.
    if (err && err.code === "ENOENT" && !retried) {
      made.clear();
      return writeOne(file, data, tempPrefix, true);
    }
    throw err;
  }
}
parentPort.on("message", (m) => {
  const errors = m.files.map((f) => {
    try {
      writeOne(f.path, f.data, m.tempPrefix, false);
      return undefined;
    } catch (err) {
      return { code: err && err.code, message: String(err && err.message) };
    }
  });
  parentPort.postMessage({ id: m.id, errors });
});
`;

export interface SmallFile {
  readonly path: string;
  readonly data: Uint8Array;
}

/** Why one file was not written (the system call's error code and message). */
export interface SmallFileError {
  readonly code: string | undefined;
  readonly message: string;
}

interface Reply {
  readonly id: number;
  readonly errors: readonly (SmallFileError | undefined)[];
}

export class SmallFileWriter {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve(errors: readonly (SmallFileError | undefined)[]): void; reject(err: unknown): void }
  >();

  /** `tempPrefix`: the temporary files' name prefix (names no blob key can have). */
  constructor(private readonly tempPrefix: string) {}

  /** Writes the files; resolves with each one's error (undefined when written). */
  write(files: readonly SmallFile[]): Promise<readonly (SmallFileError | undefined)[]> {
    if (files.length === 0) return Promise.resolve([]);
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref(); // kept alive while a batch is out
      worker.postMessage({ id, files, tempPrefix: this.tempPrefix });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on("message", (reply: Reply) => {
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      w?.resolve(reply.errors);
    });
    const fail = (err: unknown) => {
      if (this.worker === worker) this.worker = undefined;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the small-file writer stopped (exit ${code})`)));
    this.worker = worker;
    return worker;
  }
}

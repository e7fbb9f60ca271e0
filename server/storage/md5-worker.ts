// MD5s hashed on a worker thread, so a large upload's hash runs on one core while the event loop reads the socket and
// the thread pool writes the file (hashing is the upload's ceiling: ~570 MiB/s on one core). Bytes are passed as
// SharedArrayBuffer ranges, never copied: the caller may write the same buffer to a file meanwhile, and reuses it once
// the update is acknowledged. One worker (started on first use, never keeping the process alive) hashes any number of
// concurrent bodies, each a job; close() ends it.
import { Worker } from "node:worker_threads";

// Plain CommonJS evaluated in the worker (no TypeScript loader there, under tsx or from dist alike).
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hashes = new Map();
parentPort.on("message", (m) => {
  if (m.op === "update") {
    let hash = hashes.get(m.job);
    if (hash === undefined) hashes.set(m.job, (hash = createHash("md5")));
    hash.update(new Uint8Array(m.buffer, m.offset, m.length));
    parentPort.postMessage({ job: m.job, seq: m.seq });
  } else if (m.op === "digest") {
    const hash = hashes.get(m.job) ?? createHash("md5");
    hashes.delete(m.job);
    parentPort.postMessage({ job: m.job, seq: m.seq, digest: hash.digest() });
  } else if (m.op === "drop") {
    hashes.delete(m.job);
  }
});
`;

interface Reply {
  readonly job: number;
  readonly seq: number;
  readonly digest?: Uint8Array;
}

interface Waiter {
  resolve(digest: Uint8Array | undefined): void;
  reject(err: unknown): void;
}

/** A running worker and the replies it owes, by `job:seq`. */
interface Running {
  readonly worker: Worker;
  readonly waiting: Map<string, Waiter>;
}

export class Md5Worker {
  private running: Running | undefined;
  private nextJob = 0;

  /** A new MD5 to feed in order. */
  job(): Md5Job {
    return new Md5Job(this, this.nextJob++);
  }

  /** @internal Sends one message and resolves with its reply's digest (if any). */
  send(
    job: number,
    seq: number,
    message: { op: "update"; buffer: SharedArrayBuffer; offset: number; length: number } | { op: "digest" },
  ): Promise<Uint8Array | undefined> {
    const { worker, waiting } = this.started();
    return new Promise((resolve, reject) => {
      // Referenced while it owes a reply, so the process waits for it; idle, it never keeps the process alive.
      if (waiting.size === 0) worker.ref();
      waiting.set(`${job}:${seq}`, { resolve, reject });
      worker.postMessage({ ...message, job, seq });
    });
  }

  /** @internal */
  drop(job: number): void {
    this.running?.worker.postMessage({ op: "drop", job });
  }

  private started(): Running {
    if (this.running !== undefined) return this.running;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    const running: Running = { worker, waiting: new Map() };
    worker.on("message", (reply: Reply) => {
      const key = `${reply.job}:${reply.seq}`;
      const waiter = running.waiting.get(key);
      running.waiting.delete(key);
      if (running.waiting.size === 0) worker.unref();
      waiter?.resolve(reply.digest === undefined ? undefined : Buffer.from(reply.digest));
    });
    const fail = (err: unknown) => {
      if (this.running === running) this.running = undefined;
      const waiters = [...running.waiting.values()];
      running.waiting.clear();
      for (const w of waiters) w.reject(err);
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the MD5 worker exited (code ${code})`)));
    this.running = running;
    return running;
  }

  async close(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    if (running !== undefined) await running.worker.terminate();
  }
}

/** One body's MD5: updates applied in the order they are sent. */
export class Md5Job {
  private seq = 0;

  constructor(
    private readonly worker: Md5Worker,
    private readonly id: number,
  ) {}

  /** Hashes `buffer[offset, offset + length)`; resolves once the worker is done with it. */
  async update(buffer: SharedArrayBuffer, offset: number, length: number): Promise<void> {
    await this.worker.send(this.id, this.seq++, { op: "update", buffer, offset, length });
  }

  /** The MD5 of everything sent (after the updates before it). */
  async digest(): Promise<Uint8Array> {
    return (await this.worker.send(this.id, this.seq++, { op: "digest" })) ?? new Uint8Array();
  }

  /** Forgets the job (a refused body). */
  drop(): void {
    this.worker.drop(this.id);
  }
}

// Task attempts' stdout and stderr in the data plane's store (storage/layout.ts attemptLogUri: next to the attempt's
// outputs), written while the task runs so a client can follow it live: the text so far is written again about once
// a second while it grows (an object store has no append), and kept once the attempt ends (with its result, see
// finish(), or durably by close()). Each stream keeps its
// first MAX_LOG_BYTES, then a truncation note. The links served by the HTTP port's /api/v1/logs route go on the
// attempt's task execution (RUNNING and final events).
import { create } from "@bufbuild/protobuf";
import { type TaskLog, TaskLogSchema } from "../../gen/flyteidl/core/execution_pb.js";
import type { BlobWrite } from "../repositories/data-store.js";
import type { BlobStore } from "../storage/blob-store.js";
import { attemptLogUri, type ExecutionKey } from "../storage/layout.js";
import type { LogSink, TaskLogs } from "./plugins/plugin.js";

export const LOG_STREAMS = ["stdout", "stderr"] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

const MAX_LOG_BYTES = 8 * 2 ** 20;
const FLUSH_MS = 1_000;

/** The links of an attempt's logs, served by the HTTP port at `baseUrl`. */
export function attemptLogLinks(
  baseUrl: string,
  e: ExecutionKey,
  nodeId: string,
  attempt: number,
): TaskLog[] {
  return LOG_STREAMS.map((stream) => {
    const parts = [e.project, e.domain, e.name, nodeId, String(attempt), stream];
    return create(TaskLogSchema, {
      name: stream,
      uri: `${baseUrl}/api/v1/logs/${parts.map(encodeURIComponent).join("/")}`,
    });
  });
}

class StreamBuffer {
  chunks: Buffer[] = [];
  size = 0;
  truncated = false;
  dirty = true;

  add(data: Buffer): void {
    if (this.truncated) return;
    const room = MAX_LOG_BYTES - this.size;
    const part = data.length > room ? data.subarray(0, room) : data;
    this.chunks.push(Buffer.from(part));
    this.size += part.length;
    if (data.length > room) {
      this.truncated = true;
      this.chunks.push(Buffer.from(`\n[petrel: log truncated after ${MAX_LOG_BYTES} bytes]\n`));
    }
    this.dirty = true;
  }

  take(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    this.dirty = false;
    return all;
  }
}

/** One attempt's log writer: a LogSink for the plugin, flushed to the store while it runs and at close(). */
export class AttemptLogWriter implements LogSink {
  private readonly buffers = new Map<LogStream, StreamBuffer>(
    LOG_STREAMS.map((s) => [s, new StreamBuffer()]),
  );
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Whether the plugin wrote through this sink (else close() keeps what its result reports). */
  private used = false;

  constructor(
    private readonly store: BlobStore,
    private readonly uris: Readonly<Record<LogStream, string>>,
    private readonly onError: (err: unknown) => void,
  ) {}

  static forAttempt(
    store: BlobStore,
    root: string,
    e: ExecutionKey,
    nodeId: string,
    attempt: number,
    onError: (err: unknown) => void,
  ): AttemptLogWriter {
    const uri = (s: LogStream) => attemptLogUri(root, e, nodeId, attempt, s);
    return new AttemptLogWriter(store, { stdout: uri("stdout"), stderr: uri("stderr") }, onError);
  }

  /**
   * Writes the (empty) logs, so that the links work (until then they answer "none yet"), and starts the periodic
   * flush; `delayMs` later when given (an attempt that ends sooner writes its logs once, with its result).
   */
  async open(delayMs?: number): Promise<void> {
    this.timer = setInterval(() => void this.flush(false), FLUSH_MS);
    this.timer.unref();
    if (delayMs === undefined) await this.flush(false);
    else this.first = setTimeout(() => void this.flush(false), delayMs).unref();
  }

  write(stream: LogStream, data: Buffer): void {
    if (this.closed) return;
    this.used = true;
    this.buffers.get(stream)?.add(data);
  }

  /** Stops the flushing and writes the logs durably; `reported`: what the plugin's result holds, if it wrote none. */
  async close(reported?: TaskLogs): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.first);
    if (!this.used && reported !== undefined)
      for (const s of LOG_STREAMS) this.buffers.get(s)?.add(Buffer.from(reported[s]));
    this.closed = true;
    for (const b of this.buffers.values()) b.dirty = true;
    await this.flush(true);
  }

  /**
   * Ends the writer without writing the final text itself: returned as blobs, for the transaction that records the
   * attempt's result to keep with it (their store copies follow its commit). `reported` as for close().
   */
  async finish(reported?: TaskLogs): Promise<BlobWrite[]> {
    clearInterval(this.timer);
    clearTimeout(this.first);
    if (!this.used && reported !== undefined)
      for (const s of LOG_STREAMS) this.buffers.get(s)?.add(Buffer.from(reported[s]));
    this.closed = true;
    await this.flushing; // an earlier text still being written must not land after the final one
    return LOG_STREAMS.map((s) => ({
      uri: this.uris[s],
      data: this.buffers.get(s)?.take() ?? Buffer.alloc(0),
    }));
  }

  /** One flush at a time; a failed write is reported and tried again at the next one. */
  private flush(durable: boolean): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      for (const s of LOG_STREAMS) {
        const b = this.buffers.get(s);
        if (b === undefined || !b.dirty) continue;
        const data = b.take();
        try {
          await this.store.put(this.uris[s], data, { durable });
        } catch (err) {
          b.dirty = true;
          this.onError(err);
        }
      }
    });
    return this.flushing;
  }
}

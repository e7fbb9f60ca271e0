// Log lines for stderr, written in batches: a line waits at most FLUSH_MS (or until BATCH_BYTES are waiting) and the
// batch goes out in one write. One synchronous write per line cost the engine ~7% of its event loop under load (a
// line per execution phase change). Whatever waits is written when the process exits, however it exits short of
// SIGKILL: process.exit, an uncaught exception, the end of the event loop.
import fs from "node:fs";

const FLUSH_MS = 50;
const BATCH_BYTES = 64 * 1024;

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

let waiting: string[] = [];
let bytes = 0;
let timer: NodeJS.Timeout | undefined;

function flush(): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  if (waiting.length === 0) return;
  const text = waiting.join("");
  waiting = [];
  bytes = 0;
  writeAll(Buffer.from(text));
}

/** Writes all of `buf` to stderr: a partial write goes on, a full pipe (EAGAIN) is waited for, a closed one drops it. */
function writeAll(buf: Buffer): void {
  let at = 0;
  while (at < buf.length) {
    try {
      at += fs.writeSync(2, buf, at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") return;
      Atomics.wait(PAUSE, 0, 0, 10);
    }
  }
}

process.on("exit", flush);

/** Queues one line (with its newline) for stderr. */
export function writeStderrLine(line: string): void {
  waiting.push(line);
  bytes += line.length;
  if (bytes >= BATCH_BYTES) flush();
  else timer ??= setTimeout(flush, FLUSH_MS).unref();
}

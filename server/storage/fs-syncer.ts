// Flushes a file system (coreutils `sync -f`, one syncfs) for the local blob store without forking the server for
// each flush: a small shell process runs it for every line it reads.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * A small shell process that runs `sync -f <dir>` for each line it reads and answers `ok` or `fail`: flushes without
 * forking this (big) process each time. Restarted when it dies.
 */
export class Syncer {
  private child: ChildProcess | undefined;
  private readonly waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(private readonly dir: string) {}

  sync(): Promise<void> {
    const child = this.child ?? this.start();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      child.stdin?.write("\n");
    });
  }

  private start(): ChildProcess {
    const script = 'while read -r _; do if sync -f "$0"; then echo ok; else echo fail; fi; done';
    const child = spawn("sh", ["-c", script, this.dir], { stdio: ["pipe", "pipe", "ignore"] });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const w = this.waiting.shift();
      if (line === "ok") w?.resolve();
      else w?.reject(new Error(`sync -f ${this.dir} failed`));
    });
    child.once("exit", () => {
      if (this.child === child) this.child = undefined;
      for (const w of this.waiting.splice(0)) w.reject(new Error("the sync helper stopped"));
    });
    // The helper never keeps the process alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
    this.child = child;
    return child;
  }

  close(): void {
    this.child?.stdin?.end();
    this.child = undefined;
  }
}

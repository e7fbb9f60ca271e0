// Runs `petrel serve` as a real child process and finds its ports from its log.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const BIN = path.resolve(import.meta.dirname, "../../bin/petrel.js");

/** Children still running: asked to stop (SIGTERM) when this process exits, however it ends (a test or benchmark
 * that throws must not leave servers behind, still using the machine's CPU for the next measurement). */
const living = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of living) child.kill("SIGTERM");
});

export function runPetrel(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  living.add(child);
  child.once("exit", () => living.delete(child));
  return child;
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

export async function startServerProcess(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  // Never the default ./.petrel of the working directory: a server's blobs and task directories stay out of the repo.
  const home =
    args.includes("--home") || env.PETREL_HOME !== undefined
      ? {}
      : { PETREL_HOME: fs.mkdtempSync(path.join(os.tmpdir(), "petrel-serve-home-")) };
  const child = runPetrel(["serve", "--host", "127.0.0.1", "--grpc-port", "0", "--http-port", "0", ...args], {
    ...home,
    ...env,
  });
  let out = "";
  const ports = await new Promise<{ grpc: number; http: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start (exit ${child.exitCode}):\n${out}`)),
      60_000,
    );
    // The serving line, as text (`grpc=host:port http=host:port`) or as a JSON log line. Once found, the output is
    // only kept (searching all of it again for every later chunk cost a benchmark's process more CPU than its clients).
    let found = false;
    const onData = (c: Buffer) => {
      out += c.toString();
      if (found) return;
      const m =
        /petrel is serving grpc=[^ ]+:(\d+) http=[^ ]+:(\d+)/.exec(out) ??
        /"grpc":"[^"]*:(\d+)","http":"[^"]*:(\d+)"[^\n]*"msg":"petrel is serving"/.exec(out);
      if (m !== null) {
        found = true;
        clearTimeout(timer);
        resolve({ grpc: Number(m[1]), http: Number(m[2]) });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return {
    child,
    grpcPort: ports.grpc,
    httpPort: ports.http,
    output: () => out,
    stop(signal = "SIGTERM") {
      const done = exited(child);
      child.kill(signal);
      return done;
    },
  };
}

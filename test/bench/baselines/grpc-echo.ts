// Starts grpc-echo-server.ts in its own process (like `petrel serve`, it does not share the clients' event loop).
import { spawn } from "node:child_process";
import path from "node:path";

export interface EchoMethod {
  /** `/package.Service/Method` */
  readonly path: string;
  /** pb-js names under `flyteidl`, e.g. `admin.WorkflowExecutionGetRequest`. */
  readonly requestType: string;
  readonly responseType: string;
  /** The answer, encoded, in base64. */
  readonly response: string;
}

export async function startEchoServer(methods: readonly EchoMethod[]) {
  const script = path.join(import.meta.dirname, "grpc-echo-server.ts");
  const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["pipe", "pipe", "inherit"] });
  child.stdin.end(JSON.stringify(methods));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    child.once("exit", (code) => reject(new Error(`the echo server exited with ${code}`)));
  });
  return {
    port,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}

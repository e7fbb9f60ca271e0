// A small client of the Docker Engine API (v1.41, what Debian's docker.io and every newer daemon serve) over its
// Unix socket or TCP, with node's http module: only the calls the docker runtime needs. Errors carry the daemon's
// HTTP status and message; a daemon that cannot be reached is a DockerUnreachableError.
import http from "node:http";
import type { Readable } from "node:stream";

const API_VERSION = "v1.41";

export class DockerApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "DockerApiError";
  }
}

export class DockerUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DockerUnreachableError";
  }
}

/** What `GET /containers/json` tells of a container. */
export interface ContainerSummary {
  readonly Id: string;
  readonly Names: readonly string[];
  readonly Labels: Readonly<Record<string, string>>;
  readonly State: string;
}

/** What `GET /containers/{id}/json` tells (the parts we read). */
export interface ContainerInspect {
  readonly Id: string;
  readonly Name: string;
  readonly Config: { readonly Labels: Readonly<Record<string, string>>; readonly Image: string };
  readonly State: { readonly Running: boolean; readonly ExitCode: number; readonly OOMKilled: boolean };
  readonly HostConfig: {
    readonly NanoCpus?: number;
    readonly Memory?: number;
    readonly MemoryReservation?: number;
    readonly Binds?: readonly string[] | null;
  };
}

/** Where the daemon listens: `unix:///var/run/docker.sock` (default) or `tcp://host:port`. */
function target(host: string): { socketPath: string } | { host: string; port: number } {
  if (host.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  const u = new URL(host.replace(/^tcp:/, "http:"));
  return { host: u.hostname, port: Number(u.port || 2375) };
}

export class DockerApi {
  private readonly where: ReturnType<typeof target>;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(readonly host = "unix:///var/run/docker.sock") {
    this.where = target(host);
  }

  /** Sends a request; resolves with the response once its headers came (a status ≥ 400 rejects with its message). */
  request(
    method: string,
    path: string,
    opts: { body?: unknown; signal?: AbortSignal } = {},
  ): Promise<http.IncomingMessage> {
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    return new Promise((resolve, reject) => {
      const req = http.request({
        ...this.where,
        agent: this.agent,
        method,
        path: `/${API_VERSION}${path}`,
        headers:
          body === undefined ? {} : { "content-type": "application/json", "content-length": body.length },
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
      req.once("error", (err: NodeJS.ErrnoException) => {
        if (err.name === "AbortError") reject(err);
        else
          reject(
            new DockerUnreachableError(`cannot reach the Docker daemon at ${this.host}: ${err.message}`),
          );
      });
      req.once("response", (res) => {
        if ((res.statusCode ?? 500) < 400) {
          resolve(res);
          return;
        }
        void readText(res).then((text) => {
          let message = text.trim();
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? message;
          } catch {
            // not JSON: the text as is
          }
          reject(new DockerApiError(res.statusCode ?? 500, message));
        }, reject);
      });
      req.end(body);
    });
  }

  /** A request whose JSON answer is returned (undefined for an empty one). */
  async json<T>(
    method: string,
    path: string,
    opts: { body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> {
    const text = await readText(await this.request(method, path, opts));
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  async ping(): Promise<void> {
    await readText(await this.request("GET", "/_ping"));
  }

  /** Whether the daemon has the image. */
  async hasImage(image: string): Promise<boolean> {
    try {
      await this.json("GET", `/images/${encodeURIComponent(image)}/json`);
      return true;
    } catch (err) {
      if (err instanceof DockerApiError && err.status === 404) return false;
      throw err;
    }
  }

  /** Pulls an image (a reference without tag or digest means `:latest`); an error in the progress stream rejects. */
  async pullImage(image: string, signal?: AbortSignal): Promise<void> {
    const ref = splitReference(image);
    const query = new URLSearchParams({ fromImage: ref.name, ...(ref.tag === "" ? {} : { tag: ref.tag }) });
    const res = await this.request("POST", `/images/create?${query}`, signal === undefined ? {} : { signal });
    for (const line of (await readText(res)).split("\n")) {
      if (line.trim() === "") continue;
      let progress: { error?: string };
      try {
        progress = JSON.parse(line) as { error?: string };
      } catch {
        continue;
      }
      if (progress.error !== undefined) throw new DockerApiError(500, progress.error);
    }
  }

  listContainers(labelFilters: readonly string[]): Promise<ContainerSummary[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: labelFilters }));
    return this.json("GET", `/containers/json?all=1&filters=${filters}`);
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.json("GET", `/containers/${encodeURIComponent(id)}/json`);
  }

  /** Removes a container (running or not); one that is already gone is fine. */
  async removeContainer(id: string): Promise<void> {
    try {
      await this.json("DELETE", `/containers/${encodeURIComponent(id)}?force=1&v=1`);
    } catch (err) {
      if (err instanceof DockerApiError && (err.status === 404 || /already in progress/.test(err.message)))
        return;
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

/** `name[:tag]` or `name@digest` → fromImage and tag as the pull API takes them (no tag → latest). */
export function splitReference(image: string): { name: string; tag: string } {
  if (image.includes("@")) return { name: image, tag: "" };
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon > slash) return { name: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { name: image, tag: "latest" };
}

export async function readText(res: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Splits a container's multiplexed log stream (no TTY): frames of an 8-byte header — stream (1 stdout, 2 stderr),
 * three zero bytes, the payload's length (big-endian) — then the payload.
 */
export function demultiplex(onFrame: (stream: "stdout" | "stderr", data: Buffer) => void) {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk: Buffer): void => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) return;
      const kind = pending[0];
      const data = pending.subarray(8, 8 + size);
      pending = pending.subarray(8 + size);
      onFrame(kind === 2 ? "stderr" : "stdout", data);
    }
  };
}

// Reading task attempts' logs through their links (a TaskExecution's `logs`, served by Petrel's HTTP port from the
// data plane's store), whole or followed: a running task's log grows while it runs, so following re-reads each link
// and hands over only the bytes not seen yet, until the execution is done.
import { BlobTransferError } from "./errors.js";
import type { TaskLogLink } from "./execution-nodes.js";

/** One log of one attempt, with its text. */
export interface TaskLogText extends TaskLogLink {
  readonly text: string;
}

/** How logs are read: a bearer token for a server that guards its log route, an abort signal. */
export interface LogReadOptions {
  readonly token?: string;
  readonly signal?: AbortSignal;
}

/** The log behind a link; undefined when there is none (yet). */
export async function fetchTaskLog(uri: string, opts: LogReadOptions = {}): Promise<Uint8Array | undefined> {
  const res = await fetch(uri, {
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.token === undefined ? {} : { headers: { authorization: `Bearer ${opts.token}` } }),
  });
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok)
    throw new BlobTransferError(
      res.status,
      `GET ${uri} failed: HTTP ${res.status} ${(await res.text()).trim()}`,
    );
  return new Uint8Array(await res.arrayBuffer());
}

/** The text of every link. */
export async function readTaskLogs(
  links: readonly TaskLogLink[],
  opts: LogReadOptions = {},
): Promise<TaskLogText[]> {
  const out: TaskLogText[] = [];
  for (const link of links) {
    const bytes = await fetchTaskLog(link.uri, opts);
    out.push({ ...link, text: bytes === undefined ? "" : new TextDecoder().decode(bytes) });
  }
  return out;
}

/** What a follower has read of each link: hands over only new text (multi-byte characters kept whole). */
export class LogFollower {
  private readonly read = new Map<string, { bytes: number; decoder: TextDecoder }>();

  async poll(
    links: readonly TaskLogLink[],
    onText: (link: TaskLogLink, text: string) => void,
    opts: LogReadOptions = {},
  ): Promise<void> {
    for (const link of links) {
      const key = `${link.name}\n${link.uri}`;
      const bytes = await fetchTaskLog(link.uri, opts);
      if (bytes === undefined) continue;
      let seen = this.read.get(key);
      if (seen === undefined) {
        seen = { bytes: 0, decoder: new TextDecoder() };
        this.read.set(key, seen);
      }
      if (bytes.length <= seen.bytes) continue;
      const text = seen.decoder.decode(bytes.subarray(seen.bytes), { stream: true });
      seen.bytes = bytes.length;
      if (text !== "") onText(link, text);
    }
  }
}

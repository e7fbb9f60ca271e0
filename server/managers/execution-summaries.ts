// ListExecutions' answers. A page is read as ids and row versions (a few bytes a row), and each execution's list
// form is encoded from its row once per version and kept: reading and decoding a page's rows (their spec and closure
// bytes as hex text, their timestamps) and encoding them cost several times what the rest of the call does, and a
// console or client polling a list asks for the same rows again and again. Only the rows this process has not
// encoded at their current version are read, in a second statement.
import type { Knex } from "knex";
import type { ResourceListRequest } from "../../gen/flyteidl/admin/common_pb.js";
import type { ExecutionList } from "../../gen/flyteidl/admin/execution_pb.js";
import { LruCache } from "../lru-cache.js";
import * as repo from "../repositories/execution-repo.js";
import { executionSummaryWire, lazyExecutionList } from "../transformers/wire-answers.js";

/** Bytes of encoded list entries kept (about 30,000 executions of a typical size). */
const CACHE_BYTES = 16 * 1024 * 1024;
/** What an entry costs beyond its bytes (the map entry, its key and the buffer object), roughly. */
const ENTRY_OVERHEAD = 160;

const versionKey = (r: repo.ExecutionVersion) => `${r.id}:${r.v}`;

export class ExecutionSummaries {
  private readonly encoded = new LruCache<string, Uint8Array<ArrayBuffer>>(
    CACHE_BYTES,
    (wire) => wire.length + ENTRY_OVERHEAD,
  );

  constructor(private readonly db: Knex) {}

  async list(
    scope: { project: string; domain: string; name?: string },
    req: ResourceListRequest,
  ): Promise<ExecutionList> {
    const page = await repo.listExecutionVersions(this.db, scope, req);
    const parts = page.rows.map((r) => this.encoded.get(versionKey(r)));
    const missing = page.rows.filter((_, i) => parts[i] === undefined).map((r) => r.id);
    if (missing.length > 0) {
      // A row may have changed since the page was read (it is then answered as it is now) or gone (left out).
      const rows = new Map((await repo.getExecutionAnswers(this.db, missing)).map((r) => [r.id, r]));
      page.rows.forEach((r, i) => {
        const row = parts[i] === undefined ? rows.get(r.id) : undefined;
        if (row === undefined) return;
        // Copied into a buffer of its own: a small Buffer is a slice of a shared 8 KiB pool, which it would keep alive.
        const wire = new Uint8Array(executionSummaryWire(row));
        this.encoded.set(versionKey(row), wire);
        parts[i] = wire;
      });
    }
    return lazyExecutionList(
      parts.filter((p) => p !== undefined),
      page.token,
    );
  }
}

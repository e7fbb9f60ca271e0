// GetExecution's reads of the executions table. A read starts at once while fewer than two statements are under way;
// those that come meanwhile wait and then go together, in one statement. One client waits for nothing, and many share
// a statement's round trip and driver work (which cost more CPU than the rest of a GetExecution).
import type { Knex } from "knex";
import { Coalescer, type Outcome } from "../coalescer.js";
import * as repo from "../repositories/execution-repo.js";
import type { ExecutionKey } from "../storage/layout.js";

type Read = Outcome<repo.ExecutionRow | undefined>;

const keyText = (k: ExecutionKey) => `${k.project}\u0000${k.domain}\u0000${k.name}`;

export class ExecutionReads {
  private readonly reads: Coalescer<ExecutionKey, repo.ExecutionRow | undefined>;

  constructor(private readonly db: Knex) {
    this.reads = new Coalescer((keys) => this.readAll(keys), {
      maxBatch: 64,
      maxInFlight: 2,
      immediate: true,
    });
  }

  /** The execution's row, as repo.getExecution reads it. */
  read(key: ExecutionKey): Promise<repo.ExecutionRow | undefined> {
    return this.reads.submit(key);
  }

  private async readAll(keys: readonly ExecutionKey[]): Promise<Read[]> {
    if (keys.length === 1)
      return [{ ok: true, value: await repo.getExecution(this.db, keys[0] as ExecutionKey) }];
    const rows = await repo.getExecutions(this.db, keys);
    const byKey = new Map(
      rows.map((r) => [
        keyText({ project: r.execution_project, domain: r.execution_domain, name: r.execution_name }),
        r,
      ]),
    );
    return keys.map((k): Read => ({ ok: true, value: byKey.get(keyText(k)) }));
  }
}

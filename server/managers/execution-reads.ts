// GetExecution's reads of the executions table. A read starts at once while fewer than MAX_IN_FLIGHT statements are
// under way; those that come meanwhile wait and then go together, in one statement. One client waits for nothing,
// and many share a statement's round trip and driver work (which cost more CPU than the rest of a GetExecution).
import type { Knex } from "knex";
import * as repo from "../repositories/execution-repo.js";
import type { ExecutionKey } from "../storage/layout.js";

const MAX_IN_FLIGHT = 2;
const MAX_BATCH = 64;

interface Waiting {
  readonly key: ExecutionKey;
  readonly resolve: (row: repo.ExecutionRow | undefined) => void;
  readonly reject: (error: unknown) => void;
}

const keyText = (k: ExecutionKey) => `${k.project}\u0000${k.domain}\u0000${k.name}`;

export class ExecutionReads {
  private waiting: Waiting[] = [];
  private inFlight = 0;

  constructor(private readonly db: Knex) {}

  /** The execution's row, as repo.getExecution reads it. */
  read(key: ExecutionKey): Promise<repo.ExecutionRow | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
      if (this.inFlight < MAX_IN_FLIGHT) this.next();
    });
  }

  private next(): void {
    const batch = this.waiting.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.inFlight++;
    void this.run(batch).finally(() => {
      this.inFlight--;
      this.next();
    });
  }

  private async run(batch: readonly Waiting[]): Promise<void> {
    try {
      if (batch.length === 1) {
        const [only] = batch as [Waiting];
        only.resolve(await repo.getExecution(this.db, only.key));
        return;
      }
      const rows = await repo.getExecutions(
        this.db,
        batch.map((w) => w.key),
      );
      const byKey = new Map(
        rows.map((r) => [
          keyText({ project: r.execution_project, domain: r.execution_domain, name: r.execution_name }),
          r,
        ]),
      );
      for (const w of batch) w.resolve(byKey.get(keyText(w.key)));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}

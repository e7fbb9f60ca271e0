// Coalesces the watch streams' state reads: the requests made in one tick, or while the previous statement runs,
// are served together by the next statement (up to MAX_BATCH requests), and the results split per caller.
// A request never shares a statement that had already started when it was made, so what it gets is at least as
// new as every change committed before it asked.
import { Coalescer, type Outcome } from "../coalescer.js";
import type { ExecutionKey } from "../repositories/execution-repo.js";
import type { ExecutionState } from "../repositories/execution-state-repo.js";

/** The most executions one statement reads. */
export const MAX_BATCH = 256;

type Result = ExecutionState | undefined;
/** One statement: the states of the executions with these ids and keys (`loadExecutionStates`). */
export type LoadStates = (ids: readonly string[], keys: readonly ExecutionKey[]) => Promise<ExecutionState[]>;
type Request = { readonly id: string } | { readonly key: ExecutionKey };

const keyText = (k: ExecutionKey) => `${k.project}\0${k.domain}\0${k.name}`;

export class ExecutionStateLoader {
  private readonly coalescer: Coalescer<Request, Result>;

  constructor(
    private readonly loadStates: LoadStates,
    maxBatch = MAX_BATCH,
  ) {
    this.coalescer = new Coalescer((requests) => this.load(requests), { maxBatch });
  }

  /** The state of the execution with this row id, or undefined when there is none. */
  byId(id: string): Promise<Result> {
    return this.coalescer.submit({ id });
  }

  /** The state of the execution with this project/domain/name, or undefined when there is none. */
  byKey(key: ExecutionKey): Promise<Result> {
    return this.coalescer.submit({ key });
  }

  /** One statement for the distinct ids and keys asked for; a failure fails these requests only. */
  private async load(requests: readonly Request[]): Promise<Outcome<Result>[]> {
    const ids = new Set<string>();
    const keys = new Map<string, ExecutionKey>();
    for (const r of requests) {
      if ("id" in r) ids.add(r.id);
      else keys.set(keyText(r.key), r.key);
    }
    const states = await this.loadStates([...ids], [...keys.values()]);
    const byId = new Map(states.map((s) => [s.exec.id, s]));
    const byKey = new Map(
      states.map((s) => [
        keyText({
          project: s.exec.execution_project,
          domain: s.exec.execution_domain,
          name: s.exec.execution_name,
        }),
        s,
      ]),
    );
    return requests.map((r) => ({ ok: true, value: "id" in r ? byId.get(r.id) : byKey.get(keyText(r.key)) }));
  }
}

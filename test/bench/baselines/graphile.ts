// The graphile-worker baseline: a runner in the benchmark's process on its own database, with an `echo` task that
// does nothing. A job counts as done when graphile-worker's DELETE of its row returns: that statement runs on its
// own (autocommit), so its answer comes after the completion commit. (The runner's `job:success` and
// `job:complete` events fire before that DELETE is even sent.) The pool's clients are wrapped to see those DELETEs,
// which costs Postgres nothing.
import { Logger, makeWorkerUtils, type Runner, run, type WorkerUtils } from "graphile-worker";
import pg from "pg";

type Query = (q: unknown, ...rest: unknown[]) => unknown;

/** The ids a completion DELETE (one job or a batch) removes, or undefined for any other statement. */
function completedIds(q: unknown): string[] | undefined {
  if (typeof q !== "object" || q === null) return undefined;
  const { text, values } = q as { text?: unknown; values?: unknown[] };
  if (typeof text !== "string" || !/^\s*delete from \S*_private_jobs/i.test(text)) return undefined;
  const first = values?.[0];
  return (Array.isArray(first) ? first : [first]).map(String);
}

export interface Graphile {
  /** add_job → the job's completion committed; ms. */
  completed(): Promise<number>;
  /** add_job → the task function starts; ms (resolves once the job is completed too). */
  started(): Promise<number>;
  /** Adds `n` jobs in one add_jobs call and resolves once all are completed; seconds. */
  bulk(n: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startGraphile(url: string, concurrency: number): Promise<Graphile> {
  const onDelete = new Map<string, () => void>();
  const deletedEarly = new Set<string>();
  const onStart = new Map<number, () => void>();
  const pool = new pg.Pool({ connectionString: url, max: 10 }); // graphile-worker's default pool size
  pool.on("error", () => undefined); // an idle client's error; the runner reports what affects its jobs
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as Query;
    const wrapped: Query = (q, ...rest) => {
      const result = query(q, ...rest);
      const ids = completedIds(q);
      if (ids !== undefined && result instanceof Promise) {
        result.then(
          () => {
            for (const id of ids) {
              const done = onDelete.get(id);
              if (done === undefined) deletedEarly.add(id);
              else done();
            }
          },
          () => undefined, // graphile-worker sees and handles the error itself
        );
      }
      return result;
    };
    Object.assign(client, { query: wrapped });
  });
  const runner: Runner = await run({
    pgPool: pool,
    concurrency,
    noHandleSignals: true,
    logger: new Logger(() => () => undefined),
    taskList: { echo: async (payload) => onStart.get((payload as { n: number }).n)?.() },
  });
  const utils: WorkerUtils = await makeWorkerUtils({ pgPool: pool });
  const whenDeleted = (id: string) =>
    new Promise<void>((resolve) => {
      if (deletedEarly.delete(id)) resolve();
      else onDelete.set(id, resolve);
    });
  let n = 0;
  return {
    async completed() {
      const start = performance.now();
      const job = await runner.addJob("echo", { n: n++ });
      await whenDeleted(String(job.id));
      onDelete.delete(String(job.id));
      return performance.now() - start;
    },
    async started() {
      const k = n++;
      const start = performance.now();
      const begun = new Promise<void>((r) => onStart.set(k, r));
      const job = await runner.addJob("echo", { n: k });
      await begun;
      const latency = performance.now() - start;
      onStart.delete(k);
      await whenDeleted(String(job.id));
      onDelete.delete(String(job.id));
      return latency;
    },
    async bulk(count) {
      const start = performance.now();
      const jobs = await utils.addJobs(
        Array.from({ length: count }, () => ({ identifier: "echo", payload: { n: -1 } })),
      );
      await Promise.all(jobs.map((j) => whenDeleted(String(j.id))));
      for (const j of jobs) onDelete.delete(String(j.id));
      return (performance.now() - start) / 1000;
    },
    async stop() {
      await runner.stop();
      await utils.release();
      await pool.end();
    },
  };
}

// The counts /metrics reports at each scrape: executions by phase and the engine's work queue by state.
import type { Knex } from "knex";

export async function countExecutionsByPhase(db: Knex): Promise<Array<{ phase: string; count: number }>> {
  const rows = (await db("executions").select("phase").count({ n: "*" }).groupBy("phase")) as Array<{
    phase: string;
    n: string | number;
  }>;
  return rows.map((r) => ({ phase: r.phase, count: Number(r.n) }));
}

/** Work items: ready (due, unleased or lease expired), leased (being worked on) and waiting (due later). */
export async function countWorkByState(db: Knex): Promise<Array<{ state: string; count: number }>> {
  const { rows } = (await db.raw(
    `SELECT CASE WHEN leased_by IS NOT NULL AND lease_until > now() THEN 'leased'
                 WHEN run_after <= now() THEN 'ready' ELSE 'waiting' END AS state, count(*) AS n
       FROM work_items GROUP BY 1`,
  )) as { rows: Array<{ state: string; n: string }> };
  return rows.map((r) => ({ state: r.state, count: Number(r.n) }));
}

// Dynamic nodes: where the compiled workflow a dynamic task produced is stored (FlyteAdmin's remote closure
// reference), read by the engine to run the node's children and by GetDynamicNodeWorkflow.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.raw("ALTER TABLE node_executions ADD COLUMN dynamic_workflow_uri text NOT NULL DEFAULT ''");
}

// Bulk rows for list-performance tests and benchmarks, written with one INSERT … SELECT generate_series each.
import type { Knex } from "knex";

/** Copies one registered row's blobs into `count` new versions spread over `names` names. */
export async function seedVersions(
  db: Knex,
  table: "tasks" | "workflows",
  template: { project: string; domain: string; name: string; version: string },
  count: number,
  names: number,
): Promise<void> {
  const blobs = table === "tasks" ? "type, closure" : "typed_interface, closure";
  await db.raw(
    `INSERT INTO ${table} (project, domain, name, version, digest, short_description, created_at, updated_at, ${blobs})
     SELECT t.project, t.domain, 'seed.' || (g % ?), 'v' || g, t.digest, '',
            now() - (g || ' milliseconds')::interval, now(), ${blobs
              .split(", ")
              .map((c) => `t.${c}`)
              .join(", ")}
       FROM ${table} t, generate_series(1, ?) g
      WHERE t.project = ? AND t.domain = ? AND t.name = ? AND t.version = ?`,
    [names, count, template.project, template.domain, template.name, template.version],
  );
  await db.raw(`ANALYZE ${table}`);
}

export async function seedLaunchPlans(
  db: Knex,
  template: { project: string; domain: string; name: string; version: string },
  count: number,
  names: number,
): Promise<void> {
  await db.raw(
    `INSERT INTO launch_plans (project, domain, name, version, digest, short_description, workflow_id, spec, closure,
                               state, schedule_type, launch_condition_type, created_at, updated_at)
     SELECT l.project, l.domain, 'seed.' || (g % ?), 'v' || g, l.digest, '', l.workflow_id, l.spec, l.closure,
            0, l.schedule_type, '', now() - (g || ' milliseconds')::interval, now()
       FROM launch_plans l, generate_series(1, ?) g
      WHERE l.project = ? AND l.domain = ? AND l.name = ? AND l.version = ?`,
    [names, count, template.project, template.domain, template.name, template.version],
  );
  await db.raw("ANALYZE launch_plans");
}

// Matchable attributes per scope: (project, domain, workflow, launch_plan) with '' for levels that do not apply.
import type { Knex } from "knex";
import { withDbErrors } from "./pg-errors.js";

export interface AttributesScope {
  readonly project: string;
  readonly domain: string;
  readonly workflow: string;
  readonly launch_plan: string;
}

export interface ResourceAttributesRow extends AttributesScope {
  resource_type: number;
  attributes: Buffer;
}

const KEY = ["project", "domain", "workflow", "launch_plan", "resource_type"];

export function upsertAttributes(db: Knex, row: ResourceAttributesRow): Promise<void> {
  return withDbErrors(async () => {
    await db("resource_attributes")
      .insert(row)
      .onConflict(KEY)
      .merge({ attributes: row.attributes, updated_at: db.fn.now() });
  });
}

export function getAttributes(
  db: Knex,
  scope: AttributesScope,
  resourceType: number,
): Promise<ResourceAttributesRow | undefined> {
  return withDbErrors(
    () =>
      db("resource_attributes")
        .where({ ...scope, resource_type: resourceType })
        .first() as Promise<ResourceAttributesRow | undefined>,
  );
}

export function deleteAttributes(db: Knex, scope: AttributesScope, resourceType: number): Promise<boolean> {
  return withDbErrors(
    async () =>
      (await db("resource_attributes")
        .where({ ...scope, resource_type: resourceType })
        .delete()) > 0,
  );
}

export function listAttributes(db: Knex, resourceType: number): Promise<ResourceAttributesRow[]> {
  return withDbErrors(
    () =>
      db("resource_attributes").where({ resource_type: resourceType }).orderBy("id") as Promise<
        ResourceAttributesRow[]
      >,
  );
}

/** SQL expressions (column references) naming the attributes a workflow sees. */
export interface EffectiveTargetSql {
  readonly resourceType: string;
  readonly project: string;
  readonly domain: string;
  readonly workflow: string;
}

/**
 * A scalar subquery: the attributes bytes that apply to a workflow (workflow > project+domain > project), or null.
 * Served by the unique key index.
 */
export function effectiveAttributesSql(t: EffectiveTargetSql): string {
  return `(SELECT ra.attributes FROM resource_attributes ra
            WHERE ra.resource_type = ${t.resourceType} AND ra.project = ${t.project} AND ra.launch_plan = ''
              AND ((ra.domain = ${t.domain} AND ra.workflow IN (${t.workflow}, '')) OR (ra.domain = '' AND ra.workflow = ''))
            ORDER BY (ra.workflow <> '') DESC, (ra.domain <> '') DESC LIMIT 1)`;
}

/** The attributes bytes that apply to a workflow now, or null when nothing is configured. */
export function findEffective(
  db: Knex,
  target: { project: string; domain: string; workflow: string },
  resourceType: number,
): Promise<Buffer | null> {
  const sql = effectiveAttributesSql({ resourceType: "?::int", project: "?", domain: "?", workflow: "?" });
  return withDbErrors(async () => {
    const r = (await db.raw(`SELECT ${sql} AS attributes`, [
      resourceType,
      target.project,
      target.domain,
      target.workflow,
    ])) as { rows: { attributes: Buffer | null }[] };
    return r.rows[0]?.attributes ?? null;
  });
}

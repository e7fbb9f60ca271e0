// SQL for the projects table.
import type { Knex } from "knex";
import { listPage } from "./list-page.js";
import type { ColumnSpec, ListSpec, Page, SortLike } from "./list-spec.js";
import { withDbErrors } from "./pg-errors.js";

export interface ProjectRow {
  identifier: string;
  name: string;
  description: string;
  labels: Buffer | null;
  state: number;
  created_at: Date;
  updated_at: Date;
}

export type NewProjectRow = Omit<ProjectRow, "created_at" | "updated_at">;

export function insertProject(db: Knex, row: NewProjectRow): Promise<void> {
  return withDbErrors(async () => {
    await db("projects").insert(row);
  });
}

export function getProject(db: Knex, identifier: string): Promise<ProjectRow | undefined> {
  return withDbErrors(() => db<ProjectRow>("projects").where({ identifier }).first());
}

/** Partial update: only the given fields change. Returns false when the project does not exist. */
export function updateProject(
  db: Knex,
  identifier: string,
  changes: Partial<Omit<NewProjectRow, "identifier">>,
): Promise<boolean> {
  return withDbErrors(async () => {
    const n = await db("projects")
      .where({ identifier })
      .update({ ...changes, updated_at: db.fn.now() });
    return n > 0;
  });
}

export function projectIsActive(db: Knex, identifier: string): Promise<{ exists: boolean; active: boolean }> {
  return withDbErrors(async () => {
    const row = await db<ProjectRow>("projects").select("state").where({ identifier }).first();
    return { exists: row !== undefined, active: row?.state === 0 };
  });
}

const PROJECT_COLUMNS: Record<string, ColumnSpec> = {
  identifier: { sql: "p.identifier" },
  id: { sql: "p.identifier" },
  name: { sql: "p.name" },
  description: { sql: "p.description" },
  labels: { sql: "p.labels", kind: "bytes" },
  state: { sql: "p.state", kind: "int" },
  created_at: { sql: "p.created_at", kind: "timestamp" },
  updated_at: { sql: "p.updated_at", kind: "timestamp" },
};

const PROJECT_LIST: ListSpec = {
  rpcName: "ListProjects",
  primary: "p",
  entities: { p: PROJECT_COLUMNS },
  sortKeys: {
    identifier: { sql: "p.identifier", type: "text" },
    id: { sql: "p.identifier", type: "text" },
    name: { sql: "p.name", type: "text" },
    description: { sql: "p.description", type: "text" },
    state: { sql: "p.state", type: "int" },
    created_at: { sql: "p.created_at", type: "timestamptz" },
    updated_at: { sql: "p.updated_at", type: "timestamptz" },
  },
  defaultSort: { key: "identifier", direction: "asc" },
  tieBreaker: { sql: "p.identifier", type: "text" },
};

/** ListProjects: limit 0 means no limit; without filters archived projects are hidden. */
export function listProjects(
  db: Knex,
  req: { limit: number; token: string; filters: string; sortBy?: SortLike | undefined },
): Promise<Page<ProjectRow>> {
  const qb = db("projects as p").select("p.*");
  if (req.filters.trim() === "") qb.whereNot("p.state", 1);
  return listPage<ProjectRow>(qb, { ...req, limit: req.limit === 0 ? undefined : req.limit }, PROJECT_LIST);
}

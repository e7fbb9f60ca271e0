// SQL for the projects table.
import type { Knex } from "knex";
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

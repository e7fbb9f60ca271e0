// Builds every manager over one knex instance; the composition root owns the result.
import type { Knex } from "knex";
import type { PetrelConfig } from "../config.js";
import { ProjectManager } from "./project-manager.js";

export interface Managers {
  readonly projects: ProjectManager;
}

export function createManagers(db: Knex, config: PetrelConfig): Managers {
  const projects = new ProjectManager(db, config.domains);
  return { projects };
}

// Builds every manager over one knex instance; the composition root owns the result.
import type { Knex } from "knex";
import type { PetrelConfig } from "../config.js";
import { ProjectManager } from "./project-manager.js";
import { TaskManager } from "./task-manager.js";

export interface Managers {
  readonly projects: ProjectManager;
  readonly tasks: TaskManager;
}

export function createManagers(db: Knex, config: PetrelConfig): Managers {
  const projects = new ProjectManager(db, config.domains);
  const tasks = new TaskManager(db, projects);
  return { projects, tasks };
}

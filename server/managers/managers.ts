// Builds every manager over one knex instance; the composition root owns the result.
import type { Knex } from "knex";
import type { PetrelConfig } from "../config.js";
import { AttributesManager } from "./attributes-manager.js";
import { LaunchPlanManager } from "./launch-plan-manager.js";
import { NamedEntityManager } from "./named-entity-manager.js";
import { ProjectManager } from "./project-manager.js";
import { TaskManager } from "./task-manager.js";
import { WorkflowManager } from "./workflow-manager.js";

export interface Managers {
  readonly projects: ProjectManager;
  readonly tasks: TaskManager;
  readonly workflows: WorkflowManager;
  readonly launchPlans: LaunchPlanManager;
  readonly namedEntities: NamedEntityManager;
  readonly attributes: AttributesManager;
}

export function createManagers(db: Knex, config: PetrelConfig): Managers {
  const projects = new ProjectManager(db, config.domains);
  const tasks = new TaskManager(db, projects);
  const workflows = new WorkflowManager(db, projects);
  const launchPlans = new LaunchPlanManager(db, projects);
  const namedEntities = new NamedEntityManager(db);
  const attributes = new AttributesManager(db, projects);
  return { projects, tasks, workflows, launchPlans, namedEntities, attributes };
}

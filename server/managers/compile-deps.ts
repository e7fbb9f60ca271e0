// What compiling a workflow needs from the registry: the task templates and launch-plan interfaces its nodes refer
// to. Used to register workflows and to compile the workflows dynamic tasks produce (whose own task templates come
// with them and take precedence).
import { create, fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { LaunchPlanClosureSchema } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import type { WorkflowSpec } from "../../gen/flyteidl/admin/workflow_pb.js";
import { IdentifierSchema, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { CompileJob } from "../compiler/compile-pool.js";
import { idKey, type LaunchPlanInterface } from "../compiler/interfaces.js";
import { collectRequirements } from "../compiler/requirements.js";
import { getLaunchPlans } from "../repositories/launch-plan-repo.js";
import { getTasks } from "../repositories/task-repo.js";
import { compiledTaskOf } from "../transformers/task.js";
import { idText } from "../validation/identifier-validator.js";

/** The dependencies, or Flyte's text for the first one that is not registered. */
export type CompileDeps = { readonly deps: CompileJob["deps"] } | { readonly missing: string };

export async function loadCompileDeps(
  db: Knex,
  spec: WorkflowSpec,
  known: readonly TaskTemplate[] = [],
): Promise<CompileDeps> {
  const needs = collectRequirements(spec);
  const knownKeys = new Set(known.flatMap((t) => (t.id === undefined ? [] : [idKey(t.id)])));
  const wanted = needs.tasks.filter((t) => !knownKeys.has(idKey(t)));
  const rows = wanted.length === 0 ? [] : await getTasks(db, wanted);
  const found = new Set(rows.map((t) => idKey(t)));
  const missingTask = wanted.find((t) => !found.has(idKey(t)));
  if (missingTask !== undefined)
    return {
      missing: `missing entity of type TASK with identifier ${idText({ ...missingTask, resourceType: ResourceType.TASK })}`,
    };
  const lps = needs.launchPlans.length === 0 ? [] : await getLaunchPlans(db, needs.launchPlans);
  const lpKeys = new Set(lps.map((l) => idKey(l)));
  const missingLp = needs.launchPlans.find((l) => !lpKeys.has(idKey(l)));
  if (missingLp !== undefined)
    return {
      missing: `missing entity of type LAUNCH_PLAN with identifier ${idText({ ...missingLp, resourceType: ResourceType.LAUNCH_PLAN })}`,
    };
  const launchPlans: LaunchPlanInterface[] = lps.map((row) => {
    const closure = fromBinary(LaunchPlanClosureSchema, row.closure);
    return {
      id: create(IdentifierSchema, {
        resourceType: ResourceType.LAUNCH_PLAN,
        project: row.project,
        domain: row.domain,
        name: row.name,
        version: row.version,
      }),
      expectedInputs: closure.expectedInputs,
      expectedOutputs: closure.expectedOutputs,
    };
  });
  const registered = rows.map((t) => compiledTaskOf(t).template).filter((t) => t !== undefined);
  return { deps: { tasks: [...known, ...registered], launchPlans } };
}

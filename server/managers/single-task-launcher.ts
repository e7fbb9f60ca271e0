// Single-task executions run through a generated `.flytegen.<task>` workflow and launch plan (marked
// SYSTEM_GENERATED, hidden from named-entity lists), as FlyteAdmin does.
import { create } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { NamedEntityState } from "../../gen/flyteidl/admin/common_pb.js";
import { LaunchPlanCreateRequestSchema } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { WorkflowCreateRequestSchema } from "../../gen/flyteidl/admin/workflow_pb.js";
import { type Identifier, IdentifierSchema, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { BindingSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { NodeSchema, WorkflowTemplateSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { idKey } from "../compiler/interfaces.js";
import { AppError, Code } from "../errors.js";
import { LruCache } from "../lru-cache.js";
import { getLaunchPlan, type LaunchPlanRow } from "../repositories/launch-plan-repo.js";
import { upsertNamedEntityMetadata } from "../repositories/named-entity-repo.js";
import { getTask } from "../repositories/task-repo.js";
import { compiledTaskOf } from "../transformers/task.js";
import type { LaunchPlanManager } from "./launch-plan-manager.js";
import { taskNotFound } from "./task-manager.js";
import type { WorkflowManager } from "./workflow-manager.js";

const ignoreExists = (err: unknown) => {
  if (!(err instanceof AppError) || err.code !== Code.AlreadyExists) throw err;
};

export function wrapperNodeId(taskName: string): string {
  const kept = taskName.replace(/[^A-Za-z0-9-]/g, "");
  return kept.slice(-63) || "task";
}

/** Tasks and their wrappers are immutable once registered: known ones are not read again. */
const KNOWN_WRAPPERS = 1024;

export class SingleTaskLauncher {
  private readonly known = new LruCache<string, { readonly taskRowId: string; readonly lp: LaunchPlanRow }>(
    KNOWN_WRAPPERS,
  );

  constructor(
    private readonly db: Knex,
    private readonly workflows: WorkflowManager,
    private readonly launchPlans: LaunchPlanManager,
  ) {}

  async taskRowId(ref: Identifier): Promise<string | null> {
    return this.known.get(idKey(ref))?.taskRowId ?? (await getTask(this.db, ref))?.id ?? null;
  }

  /** The task's wrapper launch plan, written first if need be (after `check`, unless the wrapper is known). */
  async ensureWrapper(
    ref: Identifier,
    check: () => Promise<void> = async () => undefined,
  ): Promise<LaunchPlanRow> {
    const known = this.known.get(idKey(ref));
    if (known !== undefined) return known.lp;
    await check();
    const lp = await this.loadWrapper(ref);
    this.known.set(idKey(ref), { taskRowId: lp.taskRowId, lp: lp.row });
    return lp.row;
  }

  private async loadWrapper(ref: Identifier): Promise<{ taskRowId: string; row: LaunchPlanRow }> {
    const row = await getTask(this.db, ref);
    if (row === undefined) throw taskNotFound(ref);
    const template = compiledTaskOf(row).template;
    const name = `.flytegen.${ref.name}`;
    const at = (resourceType: ResourceType) =>
      create(IdentifierSchema, {
        resourceType,
        project: ref.project,
        domain: ref.domain,
        name,
        version: ref.version,
      });
    const lpId = at(ResourceType.LAUNCH_PLAN);
    const existing = await getLaunchPlan(this.db, lpId);
    if (existing !== undefined) return { taskRowId: row.id, row: existing };
    const nodeId = wrapperNodeId(ref.name);
    const iface = template?.interface;
    const inputs = Object.keys(iface?.inputs?.variables ?? {}).map((v) =>
      create(BindingSchema, {
        var: v,
        binding: { value: { case: "promise", value: { nodeId: "start-node", var: v } } },
      }),
    );
    const outputs = Object.keys(iface?.outputs?.variables ?? {}).map((v) =>
      create(BindingSchema, { var: v, binding: { value: { case: "promise", value: { nodeId, var: v } } } }),
    );
    const node = create(NodeSchema, {
      id: nodeId,
      metadata: { name: ref.name, retries: { retries: template?.metadata?.retries?.retries ?? 0 } },
      inputs,
      target: {
        case: "taskNode",
        value: { reference: { case: "referenceId", value: { ...ref, resourceType: ResourceType.TASK } } },
      },
    });
    const wfId = at(ResourceType.WORKFLOW);
    const wf = create(WorkflowTemplateSchema, {
      id: wfId,
      interface: iface,
      nodes: [node],
      outputs,
      metadata: {},
      metadataDefaults: {},
    });
    await this.workflows
      .createWorkflow(create(WorkflowCreateRequestSchema, { id: wfId, spec: { template: wf } }))
      .catch(ignoreExists);
    await this.launchPlans
      .createLaunchPlan(create(LaunchPlanCreateRequestSchema, { id: lpId, spec: { workflowId: wfId } }))
      .catch(ignoreExists);
    for (const t of [ResourceType.WORKFLOW, ResourceType.LAUNCH_PLAN]) {
      await upsertNamedEntityMetadata(
        this.db,
        { resourceType: t, project: ref.project, domain: ref.domain, name },
        "",
        NamedEntityState.SYSTEM_GENERATED,
      );
    }
    const lp = await getLaunchPlan(this.db, lpId);
    if (lp === undefined) throw new Error(`wrapper launch plan for ${ref.name} was not created`);
    return { taskRowId: row.id, row: lp };
  }
}

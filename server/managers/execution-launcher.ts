// Launching executions: validation, input resolution against the launch plan, spec merge, and the hand-off to the
// engine (an evaluation work item written in the execution row's INSERT statement; see execution-inserts.ts).
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Knex } from "knex";
import {
  ExecutionClosureSchema,
  type ExecutionCreateRequest,
  ExecutionState,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { ConcurrencyLimitBehavior, type LaunchPlanSpec } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { MatchableResource } from "../../gen/flyteidl/admin/matchable_resource_pb.js";
import type { WorkflowExecutionIdentifier } from "../../gen/flyteidl/core/identifier_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { idKey } from "../compiler/interfaces.js";
import { alreadyExists, invalidArgument, missingField, unavailable } from "../errors.js";
import { LruCache } from "../lru-cache.js";
import type { DataStore } from "../repositories/data-store.js";
import { executionExists, type NewExecution } from "../repositories/execution-create-repo.js";
import * as execs from "../repositories/execution-repo.js";
import { getLaunchPlan, type LaunchPlanRow } from "../repositories/launch-plan-repo.js";
import type { EntityKey } from "../repositories/versioned-entity.js";
import type { LocalEngine } from "../repositories/work-repo.js";
import { getWorkflowKey } from "../repositories/workflow-repo.js";
import { executionInputsUri, executionUserInputsUri } from "../storage/layout.js";
import { encodeExecClosure, encodeExecSpec, executionId } from "../transformers/execution.js";
import { decodeClosure as decodeLpClosure, decodeSpec as decodeLpSpec } from "../transformers/launch-plan.js";
import { encodeLiteralMap } from "../transformers/literals.js";
import { resolveInputs, validateInputMap } from "../validation/execution-inputs.js";
import { validateIdentifierFields, validateIdText } from "../validation/identifier-validator.js";
import { validateLabels } from "../validation/labels-validator.js";
import { validateNotifications } from "../validation/launch-plan-validator.js";
import type { AttributesManager } from "./attributes-manager.js";
import { ExecutionInserts } from "./execution-inserts.js";
import { mergeExecutionSpec } from "./execution-spec.js";
import { launchPlanNotFound } from "./launch-plan-manager.js";
import type { ProjectManager } from "./project-manager.js";
import type { SingleTaskLauncher } from "./single-task-launcher.js";

const NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export function generateExecutionName(): string {
  const bytes = randomBytes(19);
  return `a${[...bytes].map((b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join("")}`;
}

export function validateExecutionName(name: string): void {
  if (name === "") return;
  if (name.length > 63) throw invalidArgument(`size of name exceeded length 63 : ${name.length}`);
  const lower = name.toLowerCase();
  if (!/^[a-z][a-z\-0-9]*$/.test(lower)) {
    throw invalidArgument(`invalid name format: ${lower}, does not match regex '^[a-z][a-z\\-0-9]*$'`);
  }
}

export interface CreateOptions {
  readonly sourceExecutionId?: string;
  readonly parentNodeExecutionId?: string;
  /**
   * Hands the new execution's first evaluation to the engine. A child launched by its parent's uncommitted evaluation
   * defers it to that transaction's end: a child that finished first could not see its parent to wake it.
   */
  readonly deferStart?: (start: () => void) => void;
  /** Who launched it (the authenticated caller), recorded as spec.metadata.principal. */
  readonly principal?: string;
}

/** Launch plans and workflows are immutable once registered (launching never reads a launch plan's state). */
const LOOKUP_CACHE_SIZE = 1024;

export class ExecutionLauncher {
  private readonly inserts: ExecutionInserts;
  private readonly launchPlans = new LruCache<string, LaunchPlanRow>(LOOKUP_CACHE_SIZE);
  private readonly workflowKeys = new LruCache<string, EntityKey>(LOOKUP_CACHE_SIZE);

  constructor(
    private readonly db: Knex,
    private readonly projects: ProjectManager,
    private readonly attributes: AttributesManager,
    private readonly singleTask: SingleTaskLauncher,
    private readonly data: DataStore,
  ) {
    this.inserts = new ExecutionInserts(db);
  }

  /** From now on, new executions are evaluated first by `engine` (no NOTIFY and claim needed). */
  setLocalEngine(engine: LocalEngine): void {
    this.inserts.localEngine = engine;
  }

  async createExecution(
    req: ExecutionCreateRequest,
    opts: CreateOptions = {},
  ): Promise<WorkflowExecutionIdentifier> {
    if (req.project === "") throw missingField("project");
    if (req.domain === "") throw missingField("domain");
    validateExecutionName(req.name);
    // Attributes come from a cache that the INSERT confirms; when they changed meanwhile, the spec is merged again
    // with a fresh read (and, should they keep changing, written without the check, as a read-then-write would).
    for (let attempt = 0; ; attempt++) {
      // The project check runs inside the INSERT statement. Flyte reports a missing or inactive project before
      // anything else, so a failure on the way there (or the check itself) is answered with the project's error.
      const item = await this.prepare(req, opts, attempt > 0, attempt < 2).catch(async (err: unknown) => {
        await this.projects.assertWritable(req.project, req.domain);
        throw err;
      });
      const outcome = await this.inserts.insert(item, opts.deferStart);
      switch (outcome.kind) {
        case "created":
          // The INSERT wrote the inputs' database copies and outbox entries; the store copies follow (only for the
          // row that was created: a name that is taken never gets its inputs overwritten).
          this.data.committed(item.extras.blobs);
          return executionId(outcome.row);
        case "exists":
          throw executionExists();
        case "project":
          await this.projects.assertWritable(req.project, req.domain);
          throw unavailable(`project [${req.project}] changed state while the execution was created; retry`);
        case "attributes":
          continue;
      }
    }
  }

  /** Everything after the project check, up to the rows to write. */
  private async prepare(
    req: ExecutionCreateRequest,
    opts: CreateOptions,
    freshAttributes: boolean,
    checkAttributes: boolean,
  ): Promise<NewExecution> {
    this.projects.assertDomain(req.domain);
    if (req.spec === undefined) throw missingField("spec");
    const ref = req.spec.launchPlan;
    if (ref === undefined) throw missingField("id");
    validateIdentifierFields(ref);
    if (ref.resourceType !== ResourceType.LAUNCH_PLAN && ref.resourceType !== ResourceType.TASK) {
      throw invalidArgument(
        `Invalid reference entity resource type [${ResourceType[ref.resourceType]}], only [LAUNCH_PLAN, TASK] allowed`,
      );
    }
    const userInputs =
      req.inputs !== undefined && Object.keys(req.inputs.literals).length > 0 ? req.inputs : req.spec.inputs;
    validateInputMap(userInputs);
    if (req.spec.notificationOverrides.case === "notifications")
      validateNotifications(req.spec.notificationOverrides.value.notifications);
    validateLabels(req.spec.labels?.values ?? {});
    for (const tag of req.spec.tags) validateIdText("tags", tag);
    const isTask = ref.resourceType === ResourceType.TASK;
    // The task wrapper is written before the execution: only into a writable project.
    const lpRow = isTask
      ? await this.singleTask.ensureWrapper(ref, () => this.projects.assertWritable(req.project, req.domain))
      : await this.launchPlans.getOrLoad(idKey(ref), () => getLaunchPlan(this.db, ref));
    if (lpRow === undefined) throw launchPlanNotFound(ref);
    const lpSpec = decodeLpSpec(lpRow);
    const inputs = resolveInputs(decodeLpClosure(lpRow).expectedInputs, lpSpec.fixedInputs, userInputs);
    await this.checkConcurrency(lpRow, lpSpec);
    const wf = await this.workflowKeys.getOrLoad(lpRow.workflow_id, () =>
      getWorkflowKey(this.db, lpRow.workflow_id),
    );
    const attrs = await this.attributes.effectiveForWrite(
      { project: req.project, domain: req.domain, workflow: wf?.name ?? "" },
      MatchableResource.WORKFLOW_EXECUTION_CONFIG,
      freshAttributes,
    );
    const spec = mergeExecutionSpec(
      req.spec,
      lpSpec,
      attrs.attributes,
      req.project,
      req.domain,
      opts.principal,
    );
    const name = req.name === "" ? generateExecutionName() : req.name;
    const key = { project: req.project, domain: req.domain, name };
    const inputsUri = executionInputsUri(this.data.root, key);
    const userInputsUri = executionUserInputsUri(this.data.root, key);
    const closure = create(ExecutionClosureSchema, {
      phase: 0,
      createdAt: timestampNow(),
      updatedAt: timestampNow(),
      workflowId: {
        resourceType: ResourceType.WORKFLOW,
        project: lpRow.project,
        domain: lpRow.domain,
        name: "",
        version: "",
      },
      stateChangeDetails: {
        state: ExecutionState.EXECUTION_ACTIVE,
        occurredAt: timestampNow(),
        principal: "",
      },
      notifications:
        spec.notificationOverrides.case === "notifications"
          ? spec.notificationOverrides.value.notifications
          : spec.notificationOverrides.case === "disableAll"
            ? []
            : (lpSpec.entityMetadata?.notifications ?? []),
    });
    if (closure.workflowId !== undefined && wf !== undefined) Object.assign(closure.workflowId, wf);
    const tags = new Map(Object.entries(spec.labels?.values ?? {}));
    for (const tag of spec.tags) tags.set(tag, tags.get(tag) ?? "");
    // The user's inputs get a blob of their own only where they differ from the inputs (defaults were added):
    // otherwise user_inputs_uri names the inputs blob, which holds the same bytes (one file less per execution).
    const inputBytes = encodeLiteralMap(inputs);
    const userBytes = userInputs === undefined ? undefined : encodeLiteralMap(userInputs);
    const ownUserBytes =
      userBytes !== undefined && Buffer.compare(inputBytes, userBytes) !== 0 ? userBytes : undefined;
    return {
      row: {
        execution_project: req.project,
        execution_domain: req.domain,
        execution_name: name,
        launch_plan_id: lpRow.id,
        workflow_id: lpRow.workflow_id,
        task_id: isTask ? await this.singleTask.taskRowId(ref) : null,
        phase: "UNDEFINED",
        spec: encodeExecSpec(spec),
        closure: encodeExecClosure(closure),
        mode: spec.metadata?.mode ?? 0,
        source_execution_id: opts.sourceExecutionId ?? null,
        parent_node_execution_id: opts.parentNodeExecutionId ?? null,
        inputs_uri: inputsUri,
        user_inputs_uri:
          userBytes === undefined ? "" : ownUserBytes !== undefined ? userInputsUri : inputsUri,
        user: spec.metadata?.principal ?? "",
        launch_entity: isTask ? "task" : "launch_plan",
      },
      extras: {
        blobs: [
          { uri: inputsUri, data: inputBytes },
          ...(ownUserBytes === undefined ? [] : [{ uri: userInputsUri, data: ownUserBytes }]),
        ],
        tags,
      },
      ...(checkAttributes ? { attributes: attrs.check } : {}),
    };
  }

  private async checkConcurrency(lp: LaunchPlanRow, spec: LaunchPlanSpec): Promise<void> {
    const policy = spec.concurrencyPolicy;
    if (policy === undefined || policy.behavior !== ConcurrencyLimitBehavior.SKIP) return;
    const running = await execs.countRunningForLaunchPlan(this.db, lp).catch(() => 0);
    if (running >= policy.max) {
      throw alreadyExists(
        `concurrency limit (${policy.max}) reached for launch plan ${lp.name}; skipping execution`,
      );
    }
  }
}

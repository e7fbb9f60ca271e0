// Launch plans: validated against their workflow, stored INACTIVE once per id, and activated one version per
// name at a time.
import { clone, create, fromBinary, toJson } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import type {
  NamedEntityIdentifierList,
  NamedEntityIdentifierListRequest,
  ObjectGetRequest,
  ResourceListRequest,
} from "../../gen/flyteidl/admin/common_pb.js";
import {
  type ActiveLaunchPlanListRequest,
  type ActiveLaunchPlanRequest,
  type LaunchPlan,
  type LaunchPlanClosure,
  type LaunchPlanCreateRequest,
  type LaunchPlanList,
  LaunchPlanListSchema,
  LaunchPlanSchema,
  type LaunchPlanSpec,
  LaunchPlanSpecSchema,
  LaunchPlanState,
  type LaunchPlanUpdateRequest,
} from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { type Identifier, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { TypedInterfaceSchema } from "../../gen/flyteidl/core/interface_pb.js";
import { invalidArgument, missingField, notFound } from "../errors.js";
import * as repo from "../repositories/launch-plan-repo.js";
import { SCHEDULE_CHANNEL } from "../repositories/schedule-repo.js";
import { getWorkflow } from "../repositories/workflow-repo.js";
import { canonicalDigest } from "../transformers/canonical-digest.js";
import * as lpx from "../transformers/launch-plan.js";
import { toIdentifierList } from "../transformers/named-entity-ids.js";
import { idText, validateIdentifier, withResourceType } from "../validation/identifier-validator.js";
import {
  expectedInputs,
  validateActivation,
  validateLaunchPlanInputs,
  validateNotifications,
  validateSchedule,
} from "../validation/launch-plan-validator.js";
import { validateListScope } from "../validation/list-validator.js";
import type { ProjectManager } from "./project-manager.js";
import { registerOnce } from "./registration.js";
import { workflowNotFound } from "./workflow-manager.js";

/** What FlyteAdmin digests: the spec (default inputs rewritten) and the closure's expected inputs and outputs. */
const digestOf = (spec: LaunchPlanSpec, closure: LaunchPlanClosure): string =>
  canonicalDigest(LaunchPlanSchema, create(LaunchPlanSchema, { spec, closure }));

export const launchPlanNotFound = (id: Identifier) =>
  notFound(`missing entity of type LAUNCH_PLAN with identifier ${idText(id)}`);

export class LaunchPlanManager {
  constructor(
    private readonly db: Knex,
    private readonly projects: ProjectManager,
  ) {}

  async createLaunchPlan(req: LaunchPlanCreateRequest): Promise<void> {
    if (req.spec === undefined) throw missingField("spec");
    const spec = clone(LaunchPlanSpecSchema, req.spec);
    validateIdentifier(spec.workflowId, ResourceType.WORKFLOW);
    const wfRow = await getWorkflow(this.db, spec.workflowId);
    if (wfRow === undefined) throw workflowNotFound(spec.workflowId);
    validateIdentifier(req.id, ResourceType.LAUNCH_PLAN);
    const id = req.id;
    await this.projects.assertWritable(id.project, id.domain);
    validateLaunchPlanInputs(spec);
    // The workflow's interface as registered (its own column: the compiled closure of a big workflow is costly to read).
    const iface = fromBinary(TypedInterfaceSchema, wfRow.typed_interface);
    const expected = expectedInputs(spec, iface);
    validateSchedule(spec, expected);
    validateNotifications(spec.entityMetadata?.notifications ?? []);
    spec.defaultInputs = expected;
    const closure = lpx.launchPlanClosure({ expectedInputs: expected, expectedOutputs: iface?.outputs });
    const digest = digestOf(spec, closure);
    await registerOnce({
      kind: "launch plan",
      name: id.name,
      digest,
      insert: () =>
        repo.insertLaunchPlan(this.db, {
          project: id.project,
          domain: id.domain,
          name: id.name,
          version: id.version,
          workflow_id: wfRow.id,
          spec: lpx.encodeSpec(spec),
          closure: lpx.encodeClosure(closure),
          digest,
          short_description: "",
          schedule_type: lpx.scheduleType(spec),
          launch_condition_type: "",
        }),
      loadExisting: () => repo.getLaunchPlan(this.db, id),
      existingDigest: (row) => digestOf(lpx.decodeSpec(row), lpx.decodeClosure(row)),
      existingJson: (row) => toJson(LaunchPlanSpecSchema, lpx.decodeSpec(row)),
      newJson: () => toJson(LaunchPlanSpecSchema, spec),
    });
  }

  async getLaunchPlan(req: ObjectGetRequest): Promise<LaunchPlan> {
    const id = withResourceType(req.id, ResourceType.LAUNCH_PLAN);
    validateIdentifier(id, ResourceType.LAUNCH_PLAN);
    const row = await repo.getLaunchPlan(this.db, id);
    if (row === undefined) throw launchPlanNotFound(id);
    return lpx.rowToLaunchPlan(row);
  }

  async updateLaunchPlan(req: LaunchPlanUpdateRequest): Promise<void> {
    const id = withResourceType(req.id, ResourceType.LAUNCH_PLAN);
    validateIdentifier(id, ResourceType.LAUNCH_PLAN);
    if (req.state !== LaunchPlanState.ACTIVE && req.state !== LaunchPlanState.INACTIVE) {
      throw invalidArgument(
        `Unrecognized launch plan state ${req.state} for update for launch plan [${idText(id)}]`,
      );
    }
    await this.db.transaction(async (trx) => {
      // One activation per name at a time, so the swap never trips the one-active-version index.
      await trx.raw("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [
        `lp:${id.project}:${id.domain}:${id.name}`,
      ]);
      if (req.state === LaunchPlanState.ACTIVE) {
        // A stored schedule may predate today's checks: never hand the scheduler one it cannot run.
        const row = await repo.getLaunchPlan(trx, id);
        if (row === undefined) throw launchPlanNotFound(id);
        validateActivation(lpx.decodeSpec(row));
      }
      const found = await repo.setLaunchPlanState(trx, id, req.state);
      if (!found) throw launchPlanNotFound(id);
      await trx.raw("SELECT pg_notify(?, '')", [SCHEDULE_CHANNEL]); // the scheduler picks up the change now
    });
  }

  async getActiveLaunchPlan(req: ActiveLaunchPlanRequest): Promise<LaunchPlan> {
    const id = req.id;
    if (id === undefined || id.project === "") throw missingField("project");
    if (id.domain === "") throw missingField("domain");
    if (id.name === "") throw missingField("name");
    const row = await repo.getActiveLaunchPlan(this.db, id);
    if (row === undefined)
      throw notFound(`No active launch plan could be found: ${id.project}:${id.domain}:${id.name}`);
    return lpx.rowToLaunchPlan(row);
  }

  async listLaunchPlans(req: ResourceListRequest): Promise<LaunchPlanList> {
    const scope = validateListScope(req.id, req.limit);
    const page = await repo.listLaunchPlans(this.db, scope, req);
    return create(LaunchPlanListSchema, {
      launchPlans: page.rows.map(lpx.rowToLaunchPlan),
      token: page.token,
    });
  }

  async listActiveLaunchPlans(req: ActiveLaunchPlanListRequest): Promise<LaunchPlanList> {
    const scope = validateListScope(req, req.limit);
    const page = await repo.listActiveLaunchPlans(this.db, scope, { ...req, filters: "" });
    return create(LaunchPlanListSchema, {
      launchPlans: page.rows.map(lpx.rowToLaunchPlan),
      token: page.token,
    });
  }

  async listLaunchPlanIds(req: NamedEntityIdentifierListRequest): Promise<NamedEntityIdentifierList> {
    const scope = validateListScope(req, req.limit);
    const page = await repo.listLaunchPlanNames(this.db, scope, req);
    return toIdentifierList(page);
  }
}

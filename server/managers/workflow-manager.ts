// Workflows: compiled against the registered tasks and launch plans they reference, stored once per id.
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import type {
  NamedEntityIdentifierList,
  NamedEntityIdentifierListRequest,
  ObjectGetRequest,
  ResourceListRequest,
} from "../../gen/flyteidl/admin/common_pb.js";
import {
  CreateWorkflowFailureReasonSchema,
  type Workflow,
  type WorkflowCreateRequest,
  type WorkflowList,
  WorkflowListSchema,
} from "../../gen/flyteidl/admin/workflow_pb.js";
import { CompiledWorkflowClosureSchema } from "../../gen/flyteidl/core/compiler_pb.js";
import { type Identifier, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { TypedInterfaceSchema } from "../../gen/flyteidl/core/interface_pb.js";
import type { CompilePool } from "../compiler/compile-pool.js";
import { invalidArgument, missingField, notFound } from "../errors.js";
import { insertDescriptionEntity } from "../repositories/description-entity-repo.js";
import * as repo from "../repositories/workflow-repo.js";
import { canonicalDigest } from "../transformers/canonical-digest.js";
import { descriptionToRow } from "../transformers/description-entity.js";
import { toIdentifierList } from "../transformers/named-entity-ids.js";
import { decodeCompiledWorkflow, rowToWorkflow, rowToWorkflowSummary } from "../transformers/workflow.js";
import {
  idText,
  validateIdentifier,
  validateIdentifierFields,
  withResourceType,
} from "../validation/identifier-validator.js";
import { validateListScope } from "../validation/list-validator.js";
import { loadCompileDeps } from "./compile-deps.js";
import type { ProjectManager } from "./project-manager.js";
import { registerOnce } from "./registration.js";

export const workflowNotFound = (id: Identifier) =>
  notFound(`missing entity of type WORKFLOW with identifier ${idText(id)}`);

export class WorkflowManager {
  constructor(
    private readonly db: Knex,
    private readonly projects: ProjectManager,
    private readonly compiler: CompilePool,
  ) {}

  async createWorkflow(req: WorkflowCreateRequest): Promise<void> {
    validateIdentifier(req.id, ResourceType.WORKFLOW);
    const id = req.id;
    await this.projects.assertWritable(id.project, id.domain);
    if (req.spec?.template === undefined) throw missingField("spec");
    // A shallow copy with the template's id set (a deep clone of a big workflow is costly and not needed).
    const spec = { ...req.spec, template: { ...req.spec.template, id } };
    const closure = Buffer.from(await this.compile(id, spec));
    const compiled = decodeCompiledWorkflow({ closure });
    const digest = canonicalDigest(CompiledWorkflowClosureSchema, compiled);
    const detail = (c: "existsIdenticalStructure" | "existsDifferentStructure") => [
      {
        desc: CreateWorkflowFailureReasonSchema,
        value: create(CreateWorkflowFailureReasonSchema, { reason: { case: c, value: { id } } }),
      },
    ];
    const description = spec.description;
    await registerOnce({
      kind: "workflow",
      name: id.name,
      digest,
      insert: () =>
        this.db.transaction(async (trx) => {
          const row = await repo.insertWorkflow(trx, {
            project: id.project,
            domain: id.domain,
            name: id.name,
            version: id.version,
            typed_interface: Buffer.from(
              toBinary(TypedInterfaceSchema, spec.template?.interface ?? create(TypedInterfaceSchema)),
            ),
            closure,
            digest,
            short_description: description?.shortDescription ?? "",
          });
          if (description !== undefined)
            await insertDescriptionEntity(trx, descriptionToRow(id, description));
          return row;
        }),
      loadExisting: () => repo.getWorkflow(this.db, id),
      existingDigest: (row) => canonicalDigest(CompiledWorkflowClosureSchema, decodeCompiledWorkflow(row)),
      existingJson: (row) => toJson(CompiledWorkflowClosureSchema, decodeCompiledWorkflow(row)),
      newJson: () => toJson(CompiledWorkflowClosureSchema, compiled),
      identicalDetails: detail("existsIdenticalStructure"),
      differentDetails: detail("existsDifferentStructure"),
    });
  }

  /**
   * Loads what the workflow references and compiles it (on the compiler's worker thread), returning the encoded
   * closure; every failure is Flyte's wrapped INVALID_ARGUMENT.
   */
  private async compile(id: Identifier, spec: WorkflowCreateRequest["spec"] & object) {
    const wrap = (inner: string) =>
      invalidArgument(`failed to compile workflow for [${idText(id)}] with err: ${inner}`);
    const loaded = await loadCompileDeps(this.db, spec);
    if ("missing" in loaded) throw wrap(loaded.missing);
    const result = await this.compiler.compile(spec, loaded.deps);
    if ("errors" in result) throw wrap(result.errors);
    return result.closure;
  }

  async getWorkflow(req: ObjectGetRequest): Promise<Workflow> {
    const id = withResourceType(req.id, ResourceType.WORKFLOW);
    if (id === undefined) throw missingField("id");
    if (id.resourceType !== ResourceType.WORKFLOW) validateIdentifier(id, ResourceType.WORKFLOW);
    validateIdentifierFields(id);
    const row = await repo.getWorkflow(this.db, id);
    if (row === undefined) throw workflowNotFound(id);
    return rowToWorkflow(row);
  }

  async listWorkflows(req: ResourceListRequest): Promise<WorkflowList> {
    const scope = validateListScope(req.id, req.limit);
    const page = await repo.listWorkflows(this.db, scope, req);
    return create(WorkflowListSchema, { workflows: page.rows.map(rowToWorkflowSummary), token: page.token });
  }

  async listWorkflowIds(req: NamedEntityIdentifierListRequest): Promise<NamedEntityIdentifierList> {
    const scope = validateListScope(req, req.limit);
    const page = await repo.listWorkflowNames(this.db, scope, req);
    return toIdentifierList(page);
  }
}

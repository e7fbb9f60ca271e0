// Tasks: validated, compiled and stored once per id; read and listed with Flyte's semantics.
import { create, toJson } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import type {
  NamedEntityIdentifierList,
  NamedEntityIdentifierListRequest,
  ObjectGetRequest,
  ResourceListRequest,
} from "../../gen/flyteidl/admin/common_pb.js";
import {
  type Task,
  type TaskCreateRequest,
  type TaskList,
  TaskListSchema,
} from "../../gen/flyteidl/admin/task_pb.js";
import { CompiledTaskSchema } from "../../gen/flyteidl/core/compiler_pb.js";
import { type Identifier, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { formatCompileErrors } from "../compiler/compile-errors.js";
import { compileTask } from "../compiler/compile-task.js";
import { invalidArgument, missingField, notFound } from "../errors.js";
import { insertDescriptionEntity } from "../repositories/description-entity-repo.js";
import * as repo from "../repositories/task-repo.js";
import { canonicalDigest } from "../transformers/canonical-digest.js";
import { descriptionToRow } from "../transformers/description-entity.js";
import { toIdentifierList } from "../transformers/named-entity-ids.js";
import { compiledTaskOf, encodeTaskClosure, rowToTask } from "../transformers/task.js";
import {
  idText,
  validateIdentifier,
  validateIdentifierFields,
  withResourceType,
} from "../validation/identifier-validator.js";
import { validateListScope } from "../validation/list-validator.js";
import { validateTaskTemplate } from "../validation/task-validator.js";
import type { ProjectManager } from "./project-manager.js";
import { registerOnce } from "./registration.js";

export class TaskManager {
  constructor(
    private readonly db: Knex,
    private readonly projects: ProjectManager,
  ) {}

  async createTask(req: TaskCreateRequest): Promise<void> {
    validateIdentifier(req.id, ResourceType.TASK);
    const id = req.id;
    await this.projects.assertWritable(id.project, id.domain);
    const template = req.spec?.template;
    if (template === undefined) throw missingField("spec");
    validateTaskTemplate(template);
    template.id = id;
    const errors = compileTask(template);
    if (errors.length > 0)
      throw invalidArgument(`task failed compilation with ${formatCompileErrors(errors)}`);
    const compiled = create(CompiledTaskSchema, { template });
    const digest = canonicalDigest(CompiledTaskSchema, compiled);
    const description = req.spec?.description;
    await registerOnce({
      kind: "task",
      name: id.name,
      digest,
      insert: () =>
        this.db.transaction(async (trx) => {
          const row = await repo.insertTask(trx, {
            project: id.project,
            domain: id.domain,
            name: id.name,
            version: id.version,
            type: template.type,
            closure: encodeTaskClosure(compiled),
            digest,
            short_description: description?.shortDescription ?? "",
          });
          if (description !== undefined)
            await insertDescriptionEntity(trx, descriptionToRow(id, description));
          return row;
        }),
      loadExisting: () => repo.getTask(this.db, id),
      existingDigest: (row) => canonicalDigest(CompiledTaskSchema, compiledTaskOf(row)),
      existingJson: (row) => toJson(CompiledTaskSchema, compiledTaskOf(row)),
      newJson: () => toJson(CompiledTaskSchema, compiled),
    });
  }

  async getTask(req: ObjectGetRequest): Promise<Task> {
    const id = withResourceType(req.id, ResourceType.TASK);
    if (id === undefined) throw missingField("id");
    validateIdentifierFields(id);
    const row = await repo.getTask(this.db, id);
    if (row === undefined) throw taskNotFound(id);
    return rowToTask(row);
  }

  async listTasks(req: ResourceListRequest): Promise<TaskList> {
    const scope = validateListScope(req.id, req.limit);
    const page = await repo.listTasks(this.db, scope, req);
    return create(TaskListSchema, { tasks: page.rows.map(rowToTask), token: page.token });
  }

  async listTaskIds(req: NamedEntityIdentifierListRequest): Promise<NamedEntityIdentifierList> {
    const scope = validateListScope(req, req.limit);
    const page = await repo.listTaskNames(this.db, scope, req);
    return toIdentifierList(page);
  }
}

export const taskNotFound = (id: Identifier) =>
  notFound(`missing entity of type TASK with identifier ${idText(id)}`);

// Named entities (versionless names with a description and an archive state) and description entities.
import { create } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import {
  type NamedEntity,
  type NamedEntityGetRequest,
  type NamedEntityList,
  type NamedEntityListRequest,
  NamedEntityListSchema,
  NamedEntitySchema,
  NamedEntityState,
  type NamedEntityUpdateRequest,
  type ObjectGetRequest,
} from "../../gen/flyteidl/admin/common_pb.js";
import {
  type DescriptionEntity,
  type DescriptionEntityList,
  type DescriptionEntityListRequest,
  DescriptionEntityListSchema,
} from "../../gen/flyteidl/admin/description_entity_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { invalidArgument, invalidField, missingField, notFound } from "../errors.js";
import * as descriptions from "../repositories/description-entity-repo.js";
import * as repo from "../repositories/named-entity-repo.js";
import { rowToDescriptionEntity } from "../transformers/description-entity.js";
import { validateIdentifierFields } from "../validation/identifier-validator.js";
import { validateListScope } from "../validation/list-validator.js";

const ENTITY_TYPES = new Set([ResourceType.TASK, ResourceType.WORKFLOW, ResourceType.LAUNCH_PLAN]);

function checkNamed(
  resourceType: ResourceType,
  id: { project: string; domain: string; name: string } | undefined,
) {
  if (resourceType === ResourceType.UNSPECIFIED) throw invalidField("resource_type");
  if (id === undefined || id.project === "") throw missingField("project");
  if (id.domain === "") throw missingField("domain");
  if (id.name === "") throw missingField("name");
  return { resourceType, project: id.project, domain: id.domain, name: id.name };
}

function toMessage(resourceType: ResourceType, row: repo.NamedEntityRow): NamedEntity {
  return create(NamedEntitySchema, {
    resourceType,
    id: { project: row.project, domain: row.domain, name: row.name },
    metadata: { description: row.description, state: row.state },
  });
}

export class NamedEntityManager {
  constructor(private readonly db: Knex) {}

  async getNamedEntity(req: NamedEntityGetRequest): Promise<NamedEntity> {
    const key = checkNamed(req.resourceType, req.id);
    if (!ENTITY_TYPES.has(key.resourceType)) throw notFound("entry not found");
    const row = await repo.getNamedEntity(this.db, key);
    if (row === undefined) throw notFound("entry not found");
    return toMessage(req.resourceType, row);
  }

  async updateNamedEntity(req: NamedEntityUpdateRequest): Promise<void> {
    const key = checkNamed(req.resourceType, req.id);
    if (req.metadata === undefined) throw missingField("metadata");
    if (req.metadata.state !== NamedEntityState.NAMED_ENTITY_ACTIVE && !ENTITY_TYPES.has(key.resourceType)) {
      throw invalidArgument(`Resource [${ResourceType[key.resourceType]}] cannot have its state updated`);
    }
    if (!ENTITY_TYPES.has(key.resourceType) || (await repo.getNamedEntity(this.db, key)) === undefined) {
      throw notFound("entry not found");
    }
    await repo.upsertNamedEntityMetadata(this.db, key, req.metadata.description, req.metadata.state);
  }

  async listNamedEntities(req: NamedEntityListRequest): Promise<NamedEntityList> {
    const scope = validateListScope(req, req.limit);
    if (!ENTITY_TYPES.has(req.resourceType)) throw invalidField("resource_type");
    const page = await repo.listNamedEntities(this.db, req.resourceType, scope, req);
    return create(NamedEntityListSchema, {
      entities: page.rows.map((r) => toMessage(req.resourceType, r)),
      token: page.token,
    });
  }

  async getDescriptionEntity(req: ObjectGetRequest): Promise<DescriptionEntity> {
    const id = req.id;
    if (id === undefined) throw missingField("id");
    if (id.resourceType === ResourceType.UNSPECIFIED) throw invalidField("resource_type");
    validateIdentifierFields(id);
    const row = await descriptions.getDescriptionEntity(this.db, id.resourceType, id);
    if (row === undefined) throw notFound("entry not found");
    return rowToDescriptionEntity(row);
  }

  async listDescriptionEntities(req: DescriptionEntityListRequest): Promise<DescriptionEntityList> {
    if (req.resourceType === ResourceType.UNSPECIFIED) throw invalidField("resource_type");
    const scope = validateListScope(req.id, req.limit);
    if (req.id?.name === undefined || req.id.name === "") throw missingField("name");
    const page = await descriptions.listDescriptionEntities(
      this.db,
      req.resourceType,
      { ...scope, name: req.id.name },
      req,
    );
    return create(DescriptionEntityListSchema, {
      descriptionEntities: page.rows.map(rowToDescriptionEntity),
      token: page.token,
    });
  }
}

// Description entities: admin.DescriptionEntity <-> rows. Tags are not stored (as in FlyteAdmin).
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type DescriptionEntity,
  DescriptionEntitySchema,
  DescriptionSchema,
  SourceCodeSchema,
} from "../../gen/flyteidl/admin/description_entity_pb.js";
import { type Identifier, IdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import type {
  DescriptionEntityRow,
  NewDescriptionEntityRow,
} from "../repositories/description-entity-repo.js";

export function descriptionToRow(id: Identifier, d: DescriptionEntity): NewDescriptionEntityRow {
  return {
    resource_type: id.resourceType,
    project: id.project,
    domain: id.domain,
    name: id.name,
    version: id.version,
    short_description: d.shortDescription,
    long_description:
      d.longDescription === undefined ? null : Buffer.from(toBinary(DescriptionSchema, d.longDescription)),
    source_code: d.sourceCode === undefined ? null : Buffer.from(toBinary(SourceCodeSchema, d.sourceCode)),
  };
}

export function rowToDescriptionEntity(row: DescriptionEntityRow): DescriptionEntity {
  return create(DescriptionEntitySchema, {
    id: create(IdentifierSchema, {
      resourceType: row.resource_type,
      project: row.project,
      domain: row.domain,
      name: row.name,
      version: row.version,
    }),
    shortDescription: row.short_description,
    ...(row.long_description === null
      ? {}
      : { longDescription: fromBinary(DescriptionSchema, row.long_description) }),
    ...(row.source_code === null ? {} : { sourceCode: fromBinary(SourceCodeSchema, row.source_code) }),
  });
}

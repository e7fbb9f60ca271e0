// A page of distinct names as a NamedEntityIdentifierList (ListTaskIds / ListWorkflowIds / ListLaunchPlanIds).
import { create } from "@bufbuild/protobuf";
import {
  type NamedEntityIdentifierList,
  NamedEntityIdentifierListSchema,
  NamedEntityIdentifierSchema,
} from "../../gen/flyteidl/admin/common_pb.js";
import type { Page } from "../repositories/list-spec.js";
import type { NameRow } from "../repositories/versioned-entity.js";

export function toIdentifierList(page: Page<NameRow>): NamedEntityIdentifierList {
  return create(NamedEntityIdentifierListSchema, {
    entities: page.rows.map((r) => create(NamedEntityIdentifierSchema, r)),
    token: page.token,
  });
}

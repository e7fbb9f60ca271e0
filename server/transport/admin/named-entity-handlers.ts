// Named entities and description entities.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { NamedEntityUpdateResponseSchema } from "../../../gen/flyteidl/admin/common_pb.js";
import type { AdminService } from "../../../gen/flyteidl/service/admin_pb.js";
import type { NamedEntityManager } from "../../managers/named-entity-manager.js";

export function namedEntityHandlers(m: NamedEntityManager): Partial<ServiceImpl<typeof AdminService>> {
  return {
    getNamedEntity: (req) => m.getNamedEntity(req),
    async updateNamedEntity(req) {
      await m.updateNamedEntity(req);
      return create(NamedEntityUpdateResponseSchema);
    },
    listNamedEntities: (req) => m.listNamedEntities(req),
    getDescriptionEntity: (req) => m.getDescriptionEntity(req),
    listDescriptionEntities: (req) => m.listDescriptionEntities(req),
  };
}

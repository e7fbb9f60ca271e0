// DataProxyService: GetData is served; upload and download locations need an object store and are not built.
import type { ServiceImpl } from "@connectrpc/connect";
import type { DataProxyService } from "../../../gen/flyteidl/service/dataproxy_pb.js";
import type { DataProxyManager } from "../../managers/data-proxy-manager.js";

export function dataProxyHandlers(m: DataProxyManager): Partial<ServiceImpl<typeof DataProxyService>> {
  return { getData: (req) => m.getData(req.flyteUrl) };
}

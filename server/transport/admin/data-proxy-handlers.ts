// DataProxyService: signed upload and download URLs for the blob store, and GetData.
import type { ServiceImpl } from "@connectrpc/connect";
import type { DataProxyService } from "../../../gen/flyteidl/service/dataproxy_pb.js";
import type { DataProxyManager } from "../../managers/data-proxy-manager.js";

export function dataProxyHandlers(m: DataProxyManager): ServiceImpl<typeof DataProxyService> {
  return {
    createUploadLocation: (req) => m.createUploadLocation(req),
    createDownloadLocation: (req) => m.createDownloadLocation(req),
    createDownloadLink: (req) => m.createDownloadLink(req),
    getData: (req) => m.getData(req.flyteUrl),
  };
}

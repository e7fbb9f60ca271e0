// petrel.v1.WatchService.
import type { ServiceImpl } from "@connectrpc/connect";
import type { WatchService } from "../../../gen/petrel/v1/watch_pb.js";
import type { WatchManager } from "../../managers/watch-manager.js";

export function watchHandlers(w: WatchManager): ServiceImpl<typeof WatchService> {
  return {
    watchExecution: (req, ctx) => w.watchExecution(req.id, ctx.signal),
    watchExecutions: (req, ctx) => w.watchExecutions(req, ctx.signal),
  };
}

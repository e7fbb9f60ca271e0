// SignalService.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { SignalSetResponseSchema } from "../../../gen/flyteidl/admin/signal_pb.js";
import type { SignalService } from "../../../gen/flyteidl/service/signal_pb.js";
import { principalName } from "../../auth/principal.js";
import type { SignalManager } from "../../managers/signal-manager.js";

export function signalHandlers(m: SignalManager): ServiceImpl<typeof SignalService> {
  return {
    getOrCreateSignal: (req) => m.getOrCreateSignal(req),
    listSignals: (req) => m.listSignals(req),
    async setSignal(req, ctx) {
      await m.setSignal(req, principalName(ctx));
      return create(SignalSetResponseSchema);
    },
  };
}

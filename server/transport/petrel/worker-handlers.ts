// petrel.v1.WorkerService.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CompleteTaskResponseSchema,
  HeartbeatResponseSchema,
  PollTaskResponseSchema,
  type WorkerService,
} from "../../../gen/petrel/v1/worker_pb.js";
import type { WorkerQueue } from "../../engine/worker-queue.js";
import { missingField } from "../../errors.js";

export function workerHandlers(q: WorkerQueue): ServiceImpl<typeof WorkerService> {
  return {
    async pollTask(req, ctx) {
      if (req.taskNames.length === 0) throw missingField("task_names");
      const lease = await q.poll(req.workerId, req.taskNames, req.waitMs, ctx.signal);
      return create(PollTaskResponseSchema, lease === undefined ? {} : { lease });
    },
    async heartbeat(req) {
      if (req.leaseId === "") throw missingField("lease_id");
      return create(HeartbeatResponseSchema, { cancelled: await q.heartbeat(req.leaseId) });
    },
    async completeTask(req) {
      if (req.leaseId === "") throw missingField("lease_id");
      const r = req.result;
      if (r.case === undefined) throw missingField("result");
      await q.complete(req.leaseId, r.case === "outputs" ? { outputs: r.value } : { error: r.value });
      return create(CompleteTaskResponseSchema);
    },
  };
}

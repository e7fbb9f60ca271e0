// Tasks.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { TaskCreateResponseSchema } from "../../../gen/flyteidl/admin/task_pb.js";
import type { AdminService } from "../../../gen/flyteidl/service/admin_pb.js";
import type { TaskManager } from "../../managers/task-manager.js";

export function taskHandlers(tasks: TaskManager): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async createTask(req) {
      await tasks.createTask(req);
      return create(TaskCreateResponseSchema);
    },
    getTask: (req) => tasks.getTask(req),
    listTasks: (req) => tasks.listTasks(req),
    listTaskIds: (req) => tasks.listTaskIds(req),
  };
}

// The compiler on a worker thread (see compile-pool.ts): compiling a big workflow takes its time off the server's
// event loop. Jobs come as structured clones of the spec and its dependencies; the closure goes back encoded.
import { parentPort } from "node:worker_threads";
import { toBinary } from "@bufbuild/protobuf";
import { CompiledWorkflowClosureSchema } from "../../gen/flyteidl/core/compiler_pb.js";
import { formatCompileErrors } from "./compile-errors.js";
import type { CompileJob, CompileReply } from "./compile-pool.js";
import { compileWorkflow } from "./compile-workflow.js";

const port = parentPort;
port?.on("message", (job: CompileJob) => {
  let reply: CompileReply;
  try {
    const result = compileWorkflow(job.spec, job.deps);
    reply =
      "errors" in result
        ? { id: job.id, errors: formatCompileErrors(result.errors) }
        : { id: job.id, closure: toBinary(CompiledWorkflowClosureSchema, result.closure) };
  } catch (err) {
    reply = { id: job.id, crash: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  port.postMessage(reply, "closure" in reply ? [reply.closure.buffer as ArrayBuffer] : []);
});

// `echo` tasks: outputs are the inputs of the same names, with no process (tests and benchmarks).
import { create } from "@bufbuild/protobuf";
import { type Literal, LiteralMapSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import type { TaskContext, TaskPlugin, TaskResult } from "./plugin.js";

export const echoPlugin: TaskPlugin = {
  name: "echo",
  async run(ctx: TaskContext): Promise<TaskResult> {
    const declared = Object.keys(ctx.template.interface?.outputs?.variables ?? {});
    const names = declared.length > 0 ? declared : Object.keys(ctx.inputs.literals);
    const literals: Record<string, Literal> = {};
    for (const n of names) {
      const v = ctx.inputs.literals[n];
      if (v !== undefined) literals[n] = v;
    }
    return { ok: true, outputs: create(LiteralMapSchema, { literals }) };
  },
};

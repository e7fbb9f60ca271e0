// The types that make `remote.execute` checked at the call: a DSL entity's inputs are its interface (missing, extra
// and wrongly typed inputs are compile errors) and the handle's outputs are its outputs. Anything named at run time
// (a reference by name, a fetched task, workflow or launch plan) takes and gives plain records.
import type { TypeMap, ValuesOf } from "./dsl/types.js";
import type { ExecuteOptions } from "./launch.js";

type Values = Record<string, unknown>;

/** What `execute(target, inputs)` accepts as inputs for `T`. */
export type InputsOf<T> = T extends { readonly kind: "launchPlan"; readonly inputs: infer I extends TypeMap }
  ? // A launch plan's defaults and fixed inputs are not in its type: every input may be left out here (the
    // server-side check still reports a missing required one).
    Partial<ValuesOf<I>>
  : T extends { readonly kind: "task" | "workflow"; readonly inputs: infer I extends TypeMap }
    ? ValuesOf<I>
    : Values;

/** The outputs of an execution of `T`. */
export type OutputsOf<T> = T extends {
  readonly kind: "task" | "workflow" | "launchPlan";
  readonly outputs: infer O extends TypeMap;
}
  ? ValuesOf<O>
  : Values;

/** `inputs` may be left out when every input of `T` is optional (or it has none). */
export type ExecuteArgs<T> =
  Partial<InputsOf<T>> extends InputsOf<T>
    ? [inputs?: InputsOf<T>, opts?: ExecuteOptions]
    : [inputs: InputsOf<T>, opts?: ExecuteOptions];

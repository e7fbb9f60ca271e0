import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { CompiledWorkflowClosureSchema } from "../../../gen/flyteidl/core/compiler_pb.js";
import { type Literal, LiteralMapSchema, LiteralSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import {
  type ArrayNode,
  ArrayNode_DataMode,
  ArrayNodeSchema,
  NodeSchema,
} from "../../../gen/flyteidl/core/workflow_pb.js";
import {
  arraySize,
  elementInputs,
  gatherOutputs,
  requiredSuccesses,
  tallyElements,
} from "../../../server/engine/array-elements.js";
import { failureSummary } from "../../../server/engine/array-events.js";
import { arrayElementOf } from "../../../server/engine/arrays.js";
import type { NodeExecutionRow } from "../../../server/repositories/node-execution-repo.js";
import {
  collectionOf,
  intType,
  literalInt,
  taskId,
  taskNode,
  taskTemplate,
} from "../../fixtures/flyte-builders.js";

const list = (xs: number[]): Literal =>
  create(LiteralSchema, { value: { case: "collection", value: { literals: xs.map((x) => literalInt(x)) } } });
const inputs = (literals: Record<string, Literal>) => create(LiteralMapSchema, { literals });
const NONE = create(LiteralSchema, {
  value: { case: "scalar", value: { value: { case: "noneType", value: {} } } },
});

describe("arraySize", () => {
  it("is the common length of the lists not bound", () => {
    expect(arraySize(inputs({ a: list([1, 2, 3]), b: list([4, 5, 6]), k: literalInt(1) }), [])).toEqual({
      n: 3,
    });
    expect(arraySize(inputs({ a: list([1, 2, 3]), ys: list([1]) }), ["ys"])).toEqual({ n: 3 });
    expect(arraySize(inputs({ a: list([]) }), [])).toEqual({ n: 0 });
  });

  it("is 1 when every input is bound", () => {
    expect(arraySize(inputs({ ys: list([1, 2]), k: literalInt(3) }), ["ys", "k"])).toEqual({ n: 1 });
  });

  it("fails USER InvalidArrayLength on lists of different lengths, or without any list", () => {
    const differ = arraySize(inputs({ a: list([1, 2]), b: list([1, 2, 3]) }), []);
    expect(differ).toMatchObject({
      error: {
        code: "InvalidArrayLength",
        message: "input arrays have different lengths: expecting '2' found '3'",
      },
    });
    expect(arraySize(inputs({ k: literalInt(1) }), [])).toMatchObject({
      error: { code: "InvalidArrayLength", message: "no input array provided" },
    });
    expect(arraySize(inputs({}), [])).toMatchObject({ error: { message: "no input array provided" } });
  });
});

describe("elementInputs", () => {
  it("takes the i-th item of each list not bound and keeps the rest whole", () => {
    const all = inputs({ a: list([10, 20]), ys: list([7, 8, 9]), k: literalInt(5) });
    expect(elementInputs(all, ["ys"], 1).literals).toEqual({
      a: literalInt(20),
      ys: list([7, 8, 9]),
      k: literalInt(5),
    });
  });
});

describe("requiredSuccesses", () => {
  const node = (init: Parameters<typeof create<typeof ArrayNodeSchema>>[1]): ArrayNode =>
    create(ArrayNodeSchema, init);
  it("is every element, min_successes (at most n) or ceil(min_success_ratio × n)", () => {
    expect(requiredSuccesses(node({}), 10)).toBe(10);
    expect(requiredSuccesses(node({ successCriteria: { case: "minSuccesses", value: 3 } }), 10)).toBe(3);
    expect(requiredSuccesses(node({ successCriteria: { case: "minSuccesses", value: 30 } }), 10)).toBe(10);
    expect(requiredSuccesses(node({ successCriteria: { case: "minSuccessRatio", value: 0.75 } }), 5)).toBe(4);
    expect(requiredSuccesses(node({ successCriteria: { case: "minSuccessRatio", value: 0.9 } }), 1000)).toBe(
      900,
    );
  });
});

describe("tallyElements", () => {
  it("counts elements by outcome; those not started yet are running", () => {
    const rows = ["SUCCEEDED", "FAILED", "RUNNING", "TIMED_OUT", "SKIPPED", "ABORTED"].map(
      (phase, i) => ({ node_id: `n0-${i}`, phase }) as NodeExecutionRow,
    );
    expect(tallyElements("n0", rows, 8)).toEqual({ succeeded: 2, failed: 3, running: 3 });
  });
});

describe("gatherOutputs", () => {
  it("makes a collection per output in index order, none for elements that did not succeed", () => {
    const ok = (x: number) => ({ status: "succeeded" as const, outputs: inputs({ o: literalInt(x) }) });
    const out = gatherOutputs(["o"], [ok(1), { status: "failed" }, undefined, ok(4)]);
    expect(out.literals.o).toEqual(
      create(LiteralSchema, {
        value: { case: "collection", value: { literals: [literalInt(1), NONE, NONE, literalInt(4)] } },
      }),
    );
  });
});

describe("failureSummary", () => {
  it("groups indexes by message, as Flyte's error collector does", () => {
    const failures = [0, 1, 2, 5, 9].map((index) => ({ index, message: index === 9 ? "b" : "a" }));
    expect(failureSummary(failures)).toBe("[0-2][5]: a\n[9]: b\n");
  });

  it("stops at Flyte's size limit", () => {
    const failures = Array.from({ length: 5000 }, (_, index) => ({
      index,
      message: `error ${index} ${"x".repeat(40)}`,
    }));
    const summary = failureSummary(failures);
    expect(summary.length).toBeLessThan(110 * 1024);
    expect(summary.endsWith("... and many more.")).toBe(true);
  });
});

describe("arrayElementOf", () => {
  const mapTask = taskTemplate({
    id: taskId("map_t-arraynode"),
    inputs: { a: collectionOf(intType()) },
    outputs: { o: collectionOf(intType()) },
  });
  const closureWith = (original: boolean | undefined, mode = ArrayNode_DataMode.SINGLE_INPUT_FILE) =>
    create(CompiledWorkflowClosureSchema, {
      primary: {
        template: {
          nodes: [
            create(NodeSchema, {
              id: "n0",
              target: {
                case: "arrayNode",
                value: {
                  node: taskNode("map_t-arraynode", taskId("map_t-arraynode")),
                  dataMode: mode,
                  ...(original === undefined ? {} : { isOriginalSubNodeInterface: original }),
                },
              },
            }),
          ],
        },
      },
    });
  const array = {
    id: "1",
    node_id: "n0",
    parent_id: null,
    metadata: null,
    input_uri: "s3://x/n0/data/inputs.pb",
  };
  const element = (nodeId: string) =>
    ({
      id: "2",
      node_id: nodeId,
      parent_id: "1",
      metadata: null,
      input_uri: `s3://x/${nodeId}/data/inputs.pb`,
    }) as NodeExecutionRow;
  const parentOf = (id: string) => (id === "1" ? (array as NodeExecutionRow) : undefined);

  it("gives a map task's element its index, the array's inputs.pb and scalar outputs", () => {
    const e = arrayElementOf(closureWith(false), parentOf, element("n0-12"), mapTask);
    expect(e?.index).toBe(12);
    expect(e?.inputUri).toBe("s3://x/n0/data/inputs.pb");
    expect(e?.template.interface?.outputs?.variables.o?.type).toEqual(intType());
    expect(e?.template.interface?.inputs?.variables.a?.type).toEqual(collectionOf(intType()));
    expect(mapTask.interface?.outputs?.variables.o?.type).toEqual(collectionOf(intType()));
  });

  it("gives an element of an original interface its own inputs.pb and the template unchanged", () => {
    const e = arrayElementOf(closureWith(true), parentOf, element("n0-0"), mapTask);
    expect(e).toMatchObject({ index: 0, inputUri: "s3://x/n0-0/data/inputs.pb", template: mapTask });
    const own = arrayElementOf(
      closureWith(undefined, ArrayNode_DataMode.INDIVIDUAL_INPUT_FILES),
      parentOf,
      element("n0-1"),
      mapTask,
    );
    expect(own?.inputUri).toBe("s3://x/n0-1/data/inputs.pb");
  });

  it("is undefined for rows that are not elements", () => {
    expect(arrayElementOf(closureWith(false), parentOf, array as NodeExecutionRow, mapTask)).toBeUndefined();
    expect(arrayElementOf(closureWith(false), parentOf, element("n0-x"), mapTask)).toBeUndefined();
    expect(arrayElementOf(closureWith(false), parentOf, element("n0-01"), mapTask)).toBeUndefined();
    expect(arrayElementOf(closureWith(false), parentOf, element("other-1"), mapTask)).toBeUndefined();
  });
});

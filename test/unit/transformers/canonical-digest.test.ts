// canonicalDigest: every encoding of the same values digests alike (map entry order, wire field order, explicit
// default values, unknown fields), and any real change of a value changes the digest.
import { create, fromBinary, type JsonObject, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { StructSchema, ValueSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { LaunchPlanSpecSchema } from "../../../gen/flyteidl/admin/launch_plan_pb.js";
import { type CompiledTask, CompiledTaskSchema } from "../../../gen/flyteidl/core/compiler_pb.js";
import { IdentifierSchema, ResourceType } from "../../../gen/flyteidl/core/identifier_pb.js";
import type { TaskTemplate } from "../../../gen/flyteidl/core/tasks_pb.js";
import { canonicalDigest } from "../../../server/transformers/canonical-digest.js";
import { stringType, taskId } from "../../fixtures/flyte-builders.js";
import { mapHeavyTemplate } from "../../fixtures/map-order-builders.js";

const compiled = (reversed: boolean, edit?: (t: TaskTemplate) => void): CompiledTask =>
  create(CompiledTaskSchema, { template: mapHeavyTemplate(taskId("t"), reversed, edit) });
const digest = (m: CompiledTask) => canonicalDigest(CompiledTaskSchema, m);
const unknownField = (no: number) =>
  new BinaryWriter().tag(no, WireType.LengthDelimited).string("x").finish();

describe("canonicalDigest", () => {
  it("ignores the order of map entries and Struct fields, as built and as decoded", () => {
    const forward = compiled(false);
    const reversed = compiled(true);
    expect(toBinary(CompiledTaskSchema, reversed)).not.toEqual(toBinary(CompiledTaskSchema, forward));
    expect(digest(reversed)).toBe(digest(forward));
    expect(digest(fromBinary(CompiledTaskSchema, toBinary(CompiledTaskSchema, reversed)))).toBe(
      digest(forward),
    );
  });

  it("ignores unknown fields, at the top and nested", () => {
    const base = digest(compiled(false));
    const bytes = toBinary(CompiledTaskSchema, compiled(true));
    const appended = fromBinary(CompiledTaskSchema, new Uint8Array([...bytes, ...unknownField(99)]));
    expect(appended.$unknown).toHaveLength(1);
    expect(digest(appended)).toBe(base);
    const nested = compiled(true, (t) => {
      t.$unknown = [{ no: 1000, wireType: WireType.Varint, data: new Uint8Array([1]) }];
    });
    expect(digest(nested)).toBe(base);
  });

  it("ignores wire field order and fields sent with their default value", () => {
    const id = create(IdentifierSchema, {
      resourceType: ResourceType.TASK,
      project: "p",
      domain: "d",
      name: "n",
      version: "v",
    });
    const w = new BinaryWriter();
    w.tag(5, WireType.LengthDelimited).string("v");
    w.tag(6, WireType.LengthDelimited).string(""); // org, at its default
    w.tag(4, WireType.LengthDelimited).string("n");
    w.tag(3, WireType.LengthDelimited).string("d");
    w.tag(2, WireType.LengthDelimited).string("p");
    w.tag(1, WireType.Varint).int32(ResourceType.TASK);
    const shuffled = fromBinary(IdentifierSchema, w.finish());
    expect(canonicalDigest(IdentifierSchema, shuffled)).toBe(canonicalDigest(IdentifierSchema, id));
  });

  it("reads wrapper fields and Struct fields in their plain protobuf-es form", () => {
    const spec = (init: MessageInitShape<typeof LaunchPlanSpecSchema>) =>
      canonicalDigest(LaunchPlanSpecSchema, create(LaunchPlanSpecSchema, init));
    const wrappers = [spec({}), spec({ interruptible: false }), spec({ interruptible: true })];
    expect(new Set(wrappers).size).toBe(3);
    const custom = (c: JsonObject) => digest(compiled(false, (t) => (t.custom = c)));
    expect(custom({ n: Number.NaN })).not.toBe(custom({ n: null }));
    expect(custom({ a: { x: 1, y: [2] }, b: "" })).toBe(custom({ b: "", a: { y: [2], x: 1 } }));
    const value = (entries: [string, string][]) =>
      canonicalDigest(
        ValueSchema,
        create(ValueSchema, {
          kind: {
            case: "structValue",
            value: create(StructSchema, {
              fields: Object.fromEntries(
                entries.map(([k, v]) => [
                  k,
                  create(ValueSchema, { kind: { case: "stringValue", value: v } }),
                ]),
              ),
            }),
          },
        }),
      );
    expect(
      value([
        ["a", "1"],
        ["b", "2"],
      ]),
    ).toBe(
      value([
        ["b", "2"],
        ["a", "1"],
      ]),
    );
  });

  it("changes with every real change of a value", () => {
    const variants: ((t: TaskTemplate) => void)[] = [
      () => {},
      (t) => {
        t.config.k2 = "other";
      },
      (t) => {
        t.config.k4 = "v4";
      },
      (t) => {
        const inputs = t.interface?.inputs?.variables;
        if (inputs?.a !== undefined) inputs.a.type = stringType();
      },
      (t) => {
        t.custom = { ...t.custom, gamma: "G" };
      },
      (t) => {
        t.custom = { ...t.custom, alpha: "1" };
      },
      (t) => {
        if (t.target.case === "container") t.target.value.env.reverse();
      },
      (t) => {
        t.type = "other-task";
      },
      (t) => {
        if (t.metadata?.retries !== undefined) t.metadata.retries.retries = 1;
      },
    ];
    const digests = variants.map((edit) => digest(compiled(false, edit)));
    expect(new Set(digests).size).toBe(variants.length);
  });
});

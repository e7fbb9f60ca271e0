// Small helpers over literals: a readable name of a literal's kind, and literal maps to/from bytes.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Literal, type LiteralMap, LiteralMapSchema } from "../../gen/flyteidl/core/literals_pb.js";

export function literalTypeName(lit: Literal): string {
  const v = lit.value;
  if (v.case === "scalar") {
    const s = v.value.value;
    if (s.case === "primitive") return `primitive:${s.value.value.case ?? "unset"}`;
    return s.case ?? "unset";
  }
  return v.case ?? "unset";
}

export const encodeLiteralMap = (m: LiteralMap): Uint8Array => toBinary(LiteralMapSchema, m);
export const decodeLiteralMap = (b: Uint8Array | undefined): LiteralMap =>
  b === undefined ? create(LiteralMapSchema) : fromBinary(LiteralMapSchema, b);

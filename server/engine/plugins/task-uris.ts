// The literals a task reads (its inputs.pb), with the local store's file:// URIs as plain paths: flytekit takes a
// `file://` URI for a local file and then looks for a file of that literal name ("Expected a file, but file:///…
// is not a file"), while a plain path is both local and there. Object-store URIs pass unchanged.
import { clone } from "@bufbuild/protobuf";
import { type Literal, type LiteralMap, LiteralMapSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { toTaskUri } from "./task-io.js";

function translate(lit: Literal): void {
  const v = lit.value;
  if (v.case === "collection") for (const l of v.value.literals) translate(l);
  else if (v.case === "map") for (const l of Object.values(v.value.literals)) translate(l);
  else if (v.case === "scalar") {
    const s = v.value.value;
    if (s.case === "blob" || s.case === "schema" || s.case === "structuredDataset")
      s.value.uri = toTaskUri(s.value.uri);
    else if (s.case === "union" && s.value.value !== undefined) translate(s.value.value);
  }
}

/** A copy of `map` with every blob, schema and structured-dataset URI as the task reaches it. */
export function withTaskUris(map: LiteralMap): LiteralMap {
  const out = clone(LiteralMapSchema, map);
  for (const l of Object.values(out.literals)) translate(l);
  return out;
}

// The blobs inside literals: every Blob of a literal (through collections, maps and unions) with where it sits, so
// uploads can replace local paths by URIs and downloads can replace URIs by local paths in place.
import type { LaunchPlanCreateRequest } from "../gen/flyteidl/admin/launch_plan_pb.js";
import type { Blob, Literal, LiteralMap } from "../gen/flyteidl/core/literals_pb.js";
import { BlobType_BlobDimensionality } from "../gen/flyteidl/core/types_pb.js";

export interface BlobAt {
  readonly blob: Blob;
  /** The variable, then `/`-joined list indices and map keys: `data`, `files/0`, `byName/a`. */
  readonly where: string;
}

function visit(lit: Literal | undefined, where: string, out: BlobAt[]): void {
  const v = lit?.value;
  if (v === undefined) return;
  if (v.case === "collection")
    for (const [i, x] of v.value.literals.entries()) visit(x, `${where}/${i}`, out);
  else if (v.case === "map")
    for (const [k, x] of Object.entries(v.value.literals)) visit(x, `${where}/${k}`, out);
  else if (v.case === "scalar") {
    const s = v.value.value;
    if (s.case === "blob") out.push({ blob: s.value, where });
    else if (s.case === "union") visit(s.value.value, where, out);
  }
}

/** Every blob of a literal (`where` names the literal itself). */
export function blobsOf(lit: Literal | undefined, where: string): BlobAt[] {
  const out: BlobAt[] = [];
  visit(lit, where, out);
  return out;
}

/** Every blob of a literal map, `where` starting with the variable name. */
export function blobsOfMap(map: LiteralMap | undefined): BlobAt[] {
  return Object.entries(map?.literals ?? {}).flatMap(([k, lit]) => blobsOf(lit, k));
}

export const isMultipart = (blob: Blob): boolean =>
  blob.metadata?.type?.dimensionality === BlobType_BlobDimensionality.MULTIPART;

/** A URI with a scheme (`s3://`, `file://`, `gs://`, `https://`, `flyte://`…); anything else is a local path. */
export const isRemoteUri = (s: string): boolean => /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(s);

/** A launch plan's default and fixed input literals, named `<launch plan>.defaultInputs.<input>` and so on. */
export function launchPlanLiterals(req: LaunchPlanCreateRequest): Record<string, Literal> {
  const name = req.id?.name ?? "";
  const out: Record<string, Literal> = {};
  for (const [k, p] of Object.entries(req.spec?.defaultInputs?.parameters ?? {}))
    if (p.behavior.case === "default") out[`${name}.defaultInputs.${k}`] = p.behavior.value;
  for (const [k, lit] of Object.entries(req.spec?.fixedInputs?.literals ?? {}))
    out[`${name}.fixedInputs.${k}`] = lit;
  return out;
}

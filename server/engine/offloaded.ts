// Offloaded literals (Literal.offloaded_metadata): a value stored as its own blob (by flytekit, for outputs above
// its minimum size), referenced by URI. Stored and passed on as they are; resolved where the engine looks at values
// (array elements, branch conditions, the files a raw container reads).
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  type Literal,
  LiteralCollectionSchema,
  type LiteralMap,
  LiteralMapSchema,
  LiteralSchema,
} from "../../gen/flyteidl/core/literals_pb.js";
import type { BlobStore } from "../storage/blob-store.js";

/** Thrown when an offloaded value cannot be read: the task or node fails with it. */
export class OffloadedLiteralError extends Error {}

/** How deep offloaded values may point at further offloaded values. */
const MAX_DEPTH = 8;

async function resolve(store: BlobStore, lit: Literal, depth: number): Promise<Literal> {
  const v = lit.value;
  if (v.case === "offloadedMetadata") {
    const uri = v.value.uri;
    if (depth >= MAX_DEPTH) throw new OffloadedLiteralError(`offloaded literal [${uri}] nests too deep`);
    const bytes = store.owns(uri) ? await store.get(uri) : undefined;
    if (bytes === undefined) throw new OffloadedLiteralError(`offloaded literal [${uri}] cannot be read`);
    return resolve(store, fromBinary(LiteralSchema, bytes), depth + 1);
  }
  if (v.case === "collection") {
    const literals = await Promise.all(v.value.literals.map((l) => resolve(store, l, depth)));
    return { ...lit, value: { case: "collection", value: create(LiteralCollectionSchema, { literals }) } };
  }
  if (v.case === "map") {
    const entries = await Promise.all(
      Object.entries(v.value.literals).map(async ([k, l]) => [k, await resolve(store, l, depth)] as const),
    );
    return {
      ...lit,
      value: { case: "map", value: create(LiteralMapSchema, { literals: Object.fromEntries(entries) }) },
    };
  }
  return lit;
}

/** Whether any value in the map is offloaded (most are not: nothing to read then). */
function hasOffloaded(lit: Literal): boolean {
  const v = lit.value;
  if (v.case === "offloadedMetadata") return true;
  if (v.case === "collection") return v.value.literals.some(hasOffloaded);
  if (v.case === "map") return Object.values(v.value.literals).some(hasOffloaded);
  return false;
}

/** The map with every offloaded value read from the store (the same map when none is offloaded). */
export async function resolveOffloaded(store: BlobStore, map: LiteralMap): Promise<LiteralMap> {
  if (!Object.values(map.literals).some(hasOffloaded)) return map;
  const entries = await Promise.all(
    Object.entries(map.literals).map(async ([k, l]) => [k, await resolve(store, l, 0)] as const),
  );
  return create(LiteralMapSchema, { literals: Object.fromEntries(entries) });
}

// Literal maps in the *GetData responses, as FlyteAdmin answers them: inline (full_inputs / full_outputs) up to a
// configured size; a bigger one only as a UrlBlob (a signed GET URL and its size), which flytekit downloads when the
// inline map is empty and the size is not zero.
import { create } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { type UrlBlob, UrlBlobSchema } from "../../gen/flyteidl/admin/common_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { DataStore } from "../repositories/data-store.js";
import { decodeLiteralMap } from "../transformers/literals.js";

export interface InlineLimits {
  /** Literal maps up to this size are answered inline. */
  readonly maxInlineBytes: number;
  /** How long the URL of a bigger one is valid. */
  readonly urlExpiresMs: number;
}

export interface LiteralData {
  readonly full: LiteralMap;
  readonly blob: UrlBlob;
}

export async function literalData(
  db: Knex,
  data: DataStore,
  uri: string,
  limits: InlineLimits,
): Promise<LiteralData> {
  const none = { full: decodeLiteralMap(undefined), blob: create(UrlBlobSchema) };
  if (uri === "") return none;
  const copy = await data.copyOf(db, uri);
  if (copy !== undefined && copy.byteLength <= limits.maxInlineBytes)
    return { full: decodeLiteralMap(copy), blob: create(UrlBlobSchema, { bytes: BigInt(copy.byteLength) }) };
  if (!data.blobs.owns(uri)) return copy === undefined ? none : { ...none, full: decodeLiteralMap(copy) };
  let size = copy?.byteLength;
  if (copy !== undefined) {
    // Its store copy may still be on its way (the materializer writes it after commit): the URL must work now.
    if ((await data.blobs.head(uri)) === undefined) await data.blobs.put(uri, copy);
  } else {
    size = (await data.blobs.head(uri))?.size;
    if (size === undefined) return none;
    if (size <= limits.maxInlineBytes) {
      const bytes = await data.blobs.get(uri);
      return { full: decodeLiteralMap(bytes), blob: create(UrlBlobSchema, { bytes: BigInt(size) }) };
    }
  }
  const signed = await data.blobs.signGet(uri, { expiresInMs: limits.urlExpiresMs });
  return {
    full: decodeLiteralMap(undefined),
    blob: create(UrlBlobSchema, { url: signed.url, bytes: BigInt(size ?? 0) }),
  };
}

// DataProxyService: signed upload and download URLs for the blob store (FlyteAdmin's rules and texts,
// task-contract.md §2), and GetData's flyte://v1/<project>/<domain>/<execution>/<node>[/<attempt>]/<i|o|d>[/<var>].
// Beyond FlyteAdmin, CreateDownloadLocation of a directory (a URI with blobs under it) signs its listing
// (storage/blob-listing.ts), so a multipart blob can be downloaded whoever wrote it.
import crypto from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TaskExecutionListRequestSchema } from "../../gen/flyteidl/admin/task_execution_pb.js";
import {
  type NodeExecutionIdentifier,
  NodeExecutionIdentifierSchema,
} from "../../gen/flyteidl/core/identifier_pb.js";
import { type LiteralMap, LiteralMapSchema } from "../../gen/flyteidl/core/literals_pb.js";
import {
  ArtifactType,
  type CreateDownloadLinkRequest,
  CreateDownloadLinkRequestSchema,
  type CreateDownloadLinkResponse,
  CreateDownloadLinkResponseSchema,
  type CreateDownloadLocationRequest,
  type CreateDownloadLocationResponse,
  CreateDownloadLocationResponseSchema,
  type CreateUploadLocationRequest,
  type CreateUploadLocationResponse,
  CreateUploadLocationResponseSchema,
  type GetDataResponse,
  GetDataResponseSchema,
} from "../../gen/flyteidl/service/dataproxy_pb.js";
import { AppError, alreadyExists, Code, invalidArgument, notFound } from "../errors.js";
import { keyUnder } from "../storage/blob-key.js";
import { hasBlobsUnder } from "../storage/blob-listing.js";
import type { BlobInfo, BlobStore } from "../storage/blob-store.js";
import type { HmacUrlSigner } from "../storage/signed-urls.js";
import { modelText } from "../transformers/model-text.js";
import { downloadExpiresIn, uploadExpiresInMs } from "../validation/data-proxy-validator.js";
import type { NodeExecutionManager } from "./node-execution-manager.js";

interface FlyteUrl {
  readonly project: string;
  readonly domain: string;
  readonly name: string;
  readonly nodeId: string;
  readonly attempt: number | undefined;
  readonly io: "i" | "o" | "d";
  readonly variable: string | undefined;
}

export function parseFlyteUrl(url: string): FlyteUrl {
  if (!url.startsWith("flyte://")) throw invalidArgument(`unsupported URL [${url}]: expected flyte://v1/...`);
  const parts = url.slice("flyte://".length).split("/");
  const [v, project, domain, name, nodeId, ...rest] = parts;
  if (
    v !== "v1" ||
    project === undefined ||
    domain === undefined ||
    name === undefined ||
    nodeId === undefined
  ) {
    throw invalidArgument(`failed to parse flyte url [${url}]`);
  }
  let attempt: number | undefined;
  if (rest[0] !== undefined && /^\d+$/.test(rest[0])) attempt = Number(rest.shift());
  const io = rest.shift();
  if (io !== "i" && io !== "o" && io !== "d")
    throw invalidArgument(`failed to parse flyte url [${url}]: expected i, o or d`);
  return { project, domain, name, nodeId, attempt, io, variable: rest[0] };
}

/** RFC 4648 base32, upper case, `=` padded (Go's base32.StdEncoding): 16 MD5 bytes → 32 characters. */
export function base32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out.padEnd(Math.ceil(out.length / 8) * 8, "=");
}

/** k8s rand.String: consonants and digits without look-alikes (FlyteAdmin's random upload filename). */
function randomFilename(length = 20): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return Array.from({ length }, () => alphabet[crypto.randomInt(alphabet.length)]).join("");
}

/** Whether a stored blob has the given MD5 (FlyteAdmin's rewrite check: no MD5 on either side → no). */
function sameMd5(info: BlobInfo, md5: Uint8Array): boolean {
  return md5.length > 0 && info.contentMd5 !== undefined && Buffer.from(info.contentMd5).equals(md5);
}

export interface DataProxyOptions {
  readonly uploadMaxExpiresMs: number;
  readonly downloadMaxExpiresMs: number;
  /** FlyteAdmin's dataProxy.upload.storagePrefix: uploads go under `<root>/<prefix>/…` (default: none). */
  readonly uploadPrefix?: string;
}

export class DataProxyManager {
  constructor(
    private readonly nodes: NodeExecutionManager,
    private readonly store: BlobStore,
    private readonly options: DataProxyOptions,
    /** Signs directory listings (served by the HTTP port for either store). */
    private readonly listings: Pick<HmacUrlSigner, "signList">,
  ) {}

  /** `<root>/<prefix>/<org>/<project>/<domain>/<root>/<filename>`, empty parts dropped; a part may hold `/`. */
  private uploadUri(req: CreateUploadLocationRequest, root: string, filename: string): string {
    const parts = [this.options.uploadPrefix ?? "", req.org, req.project, req.domain, root, filename];
    const segments = parts.flatMap((p) => p.split("/")).filter((s) => s !== "" && s !== ".");
    const invalid = () => invalidArgument(`invalid upload location [${parts.filter((p) => p).join("/")}]`);
    if (segments.includes("..")) throw invalid();
    try {
      return this.store.uri(...segments);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw invalid();
    }
  }

  async createUploadLocation(req: CreateUploadLocationRequest): Promise<CreateUploadLocationResponse> {
    if (req.project === "" || req.domain === "")
      throw invalidArgument("project and domain are required parameters");
    if (req.filenameRoot === "" && req.contentMd5.length === 0)
      throw invalidArgument("content_md5 or filename_root is a required parameter");
    if (req.contentMd5.length !== 0 && req.contentMd5.length !== 16)
      throw invalidArgument("content_md5 must be the 16 bytes of an MD5 digest");
    // A caller-chosen path may already hold a file: it is rewritten only by the same content.
    if (req.filename !== "" && req.filenameRoot !== "") {
      const known = this.uploadUri(req, req.filenameRoot, req.filename);
      const info = await this.store.head(known);
      if (info !== undefined && !sameMd5(info, req.contentMd5)) {
        throw alreadyExists(
          `file already exists at location [${known}], specify a matching hash if you wish to rewrite`,
        );
      }
    }
    const expiresInMs = uploadExpiresInMs(req.expiresIn, this.options.uploadMaxExpiresMs);
    const filename = req.filename === "" ? randomFilename() : req.filename;
    const nativeUrl = this.uploadUri(req, req.filenameRoot || base32(req.contentMd5), filename);
    const signed = await this.store.signPut(nativeUrl, {
      expiresInMs,
      ...(req.contentMd5.length === 0 ? {} : { contentMd5: req.contentMd5 }),
      storeMd5: req.addContentMd5Metadata,
    });
    return create(CreateUploadLocationResponseSchema, {
      signedUrl: signed.url,
      nativeUrl,
      expiresAt: timestampFromDate(signed.expiresAt),
      headers: { ...signed.headers },
    });
  }

  /**
   * Deprecated in Flyte, still served: a signed GET of any blob of the store (existing or not, as FlyteAdmin signs
   * it). A URI with no blob but blobs under it (`<uri>/…`) is a directory: the answer is a signed GET of its listing.
   * A URI ending in `/` names a directory only, and one with no blobs under it is NotFound.
   */
  async createDownloadLocation(req: CreateDownloadLocationRequest): Promise<CreateDownloadLocationResponse> {
    const expires = downloadExpiresIn(req.expiresIn, this.options.downloadMaxExpiresMs);
    if ("problem" in expires) throw invalidArgument(`error while validating request: ${expires.problem}`);
    const dirUri = req.nativeUrl.replace(/\/+$/, "");
    const dirKey = keyUnder(this.store.root, dirUri);
    if (dirKey === undefined) {
      throw invalidArgument(
        `error while validating request: native_url [${req.nativeUrl}] is not a blob of this store`,
      );
    }
    const onlyDirectory = dirUri !== req.nativeUrl;
    let signed: { readonly url: string; readonly expiresAt: Date };
    if (!onlyDirectory && (await this.store.head(dirUri)) !== undefined) {
      signed = await this.store.signGet(dirUri, { expiresInMs: expires.ms });
    } else if (await hasBlobsUnder(this.store, dirUri)) {
      signed = this.listings.signList(dirKey, { expiresInMs: expires.ms });
    } else if (onlyDirectory) {
      throw notFound(`no blobs under directory [${req.nativeUrl}]`);
    } else {
      signed = await this.store.signGet(dirUri, { expiresInMs: expires.ms });
    }
    return create(CreateDownloadLocationResponseSchema, {
      signedUrl: signed.url,
      expiresAt: timestampFromDate(signed.expiresAt),
    });
  }

  /** A signed GET of a node execution's deck (the only artifact type Flyte defines). */
  async createDownloadLink(req: CreateDownloadLinkRequest): Promise<CreateDownloadLinkResponse> {
    const expires = downloadExpiresIn(req.expiresIn, this.options.downloadMaxExpiresMs);
    const invalid = (problem: string) => invalidArgument(`error while validating request. Error: ${problem}`);
    if ("problem" in expires) throw invalid(expires.problem);
    if (req.artifactType === ArtifactType.UNDEFINED)
      throw invalid("invalid artifact type [ARTIFACT_TYPE_UNDEFINED]");
    if (req.source.case !== "nodeExecutionId") throw invalid("source is required. Provided nil");
    const id = req.source.value;
    const node = await this.nodes.getNodeExecution({ id }).catch((err: unknown) => {
      // A node that cannot be found is the request's fault (FlyteAdmin: InvalidArgument); anything else stays as is.
      if (!(err instanceof AppError) || (err.code !== Code.NotFound && err.code !== Code.InvalidArgument))
        throw err;
      throw invalidArgument(
        `failed to find node execution [${modelText(NodeExecutionIdentifierSchema, id)}]. Error: ${err.message}`,
      );
    });
    const deckUri = node.closure?.deckUri ?? "";
    if (deckUri === "") {
      throw notFound(`no deckUrl found for request [${modelText(CreateDownloadLinkRequestSchema, req)}]`);
    }
    if (!this.store.owns(deckUri) || (await this.store.head(deckUri)) === undefined) {
      throw notFound("object not found");
    }
    const signed = await this.store.signGet(deckUri, { expiresInMs: expires.ms });
    const expiresAt = timestampFromDate(signed.expiresAt);
    return create(CreateDownloadLinkResponseSchema, {
      signedUrl: [signed.url],
      expiresAt,
      preSignedUrls: { signedUrl: [signed.url], expiresAt },
    });
  }

  async getData(flyteUrl: string): Promise<GetDataResponse> {
    const u = parseFlyteUrl(flyteUrl);
    const id = create(NodeExecutionIdentifierSchema, {
      nodeId: u.nodeId,
      executionId: { project: u.project, domain: u.domain, name: u.name },
    });
    if (u.io === "d" && u.attempt === undefined) return this.deckData(id);
    let map: LiteralMap | undefined;
    if (u.attempt === undefined) {
      const d = await this.nodes.getNodeExecutionData({ id });
      map = u.io === "i" ? d.fullInputs : d.fullOutputs;
    } else {
      const list = await this.nodes.listTaskExecutions(
        create(TaskExecutionListRequestSchema, { nodeExecutionId: id, limit: 1000 }),
      );
      const attempt = list.taskExecutions.find((t) => t.id?.retryAttempt === u.attempt);
      if (attempt?.id === undefined) throw notFound("object not found");
      if (u.io === "d")
        throw invalidArgument(
          "deck type cannot be specified with a retry attempt, just use the node instead",
        );
      const d = await this.nodes.getTaskExecutionData({ id: attempt.id });
      map = u.io === "i" ? d.fullInputs : d.fullOutputs;
    }
    const literals = map ?? create(LiteralMapSchema);
    if (u.variable === undefined)
      return create(GetDataResponseSchema, { data: { case: "literalMap", value: literals } });
    const lit = literals.literals[u.variable];
    if (lit === undefined) throw notFound(`variable [${u.variable}] not found in ${flyteUrl}`);
    return create(GetDataResponseSchema, { data: { case: "literal", value: lit } });
  }

  private async deckData(id: NodeExecutionIdentifier): Promise<GetDataResponse> {
    const link = await this.createDownloadLink(
      create(CreateDownloadLinkRequestSchema, {
        artifactType: ArtifactType.DECK,
        source: { case: "nodeExecutionId", value: id },
      }),
    );
    return create(GetDataResponseSchema, {
      data: { case: "preSignedUrls", value: link.preSignedUrls ?? { signedUrl: link.signedUrl } },
    });
  }
}

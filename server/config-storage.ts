// The blob store settings of server/config.ts: file:// or s3:// with its endpoint, region and URL style.
import path from "node:path";
import { oneOf } from "./config-values.js";
import { formatStorageUrl, parseStorageUrl } from "./storage/storage-url.js";

type Read = (
  key: "storageUrl" | "storageEndpoint" | "storageRegion" | "storagePathStyle",
) => { value: string; source: string } | undefined;

/** The blob store settings; the region falls back to AWS_REGION, then us-east-1. */
export function readStorageSettings(
  read: Read,
  awsRegion: string | undefined,
  home: string,
  problems: string[],
) {
  const url = read("storageUrl");
  const location = parseStorageUrl(url?.value ?? `file://${path.join(home, "blobs")}`);
  if (location === undefined) {
    problems.push(
      `${url?.source}: "${url?.value}" must be file:///<absolute directory> or s3://<bucket>[/<prefix>]`,
    );
  }
  const endpoint = read("storageEndpoint");
  if (endpoint !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(endpoint.value)) {
    problems.push(`${endpoint.source}: "${endpoint.value}" must be an http:// or https:// URL with no path`);
  }
  if (endpoint !== undefined && location !== undefined && location.kind !== "s3") {
    problems.push(`${endpoint.source}: an endpoint needs an s3:// storage URL (--storage-url)`);
  }
  const pathStyle = read("storagePathStyle");
  return {
    storageUrl: location === undefined ? "" : formatStorageUrl(location),
    storageEndpoint: endpoint?.value.replace(/\/+$/, ""),
    storageRegion: read("storageRegion")?.value ?? (awsRegion || "us-east-1"),
    storagePathStyle:
      pathStyle === undefined
        ? endpoint !== undefined
        : oneOf(pathStyle.value, ["on", "off"] as const, pathStyle.source, problems) === "on",
  };
}

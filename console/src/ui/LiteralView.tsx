// Flyte literals as plain values: numbers, text, lists, maps, JSON for structs, and files (blobs, datasets, offloaded
// values) as download links through the data proxy.
import type { JsonValue } from "@bufbuild/protobuf";
import { type Duration, timestampDate } from "@bufbuild/protobuf/wkt";
import { useState } from "react";
import type { Literal, LiteralMap, Primitive, Scalar } from "../../../gen/flyteidl/core/literals_pb.js";
import { BlobType_BlobDimensionality } from "../../../gen/flyteidl/core/types_pb.js";
import { dataProxy, describeError } from "../api";
import { formatMs } from "./Time";

/** How many items of a long collection are shown before "Show all". */
const SHOWN_ITEMS = 50;

function durationText(d: Duration): string {
  const ms = Number(d.seconds) * 1000 + d.nanos / 1e6;
  return `${formatMs(ms)} (${d.seconds}s${d.nanos ? ` ${d.nanos}ns` : ""})`;
}

function primitiveText(p: Primitive): string {
  switch (p.value.case) {
    case "integer":
      return p.value.value.toString();
    case "floatValue":
      return String(p.value.value);
    case "stringValue":
      return p.value.value;
    case "boolean":
      return p.value.value ? "true" : "false";
    case "datetime":
      return timestampDate(p.value.value).toISOString();
    case "duration":
      return durationText(p.value.value);
    case undefined:
      return "(empty)";
  }
}

/** A file in the blob store: its URI, and a link signed by the data proxy when asked for. */
export function BlobLink({ uri, label }: { uri: string; label?: string }) {
  const [link, setLink] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  if (uri === "") return <em>no file</em>;
  if (/^https?:\/\//.test(uri)) {
    return (
      <a href={uri} target="_blank" rel="noreferrer">
        {label ?? uri}
      </a>
    );
  }
  const fetchLink = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const res = await dataProxy.createDownloadLocation({ nativeUrl: uri });
      setLink(res.signedUrl);
    } catch (e) {
      setError(describeError(e, "download this file"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="blob">
      <code className="uri">{uri}</code>{" "}
      {link === undefined ? (
        <button type="button" className="small" disabled={busy} onClick={() => void fetchLink()}>
          {busy ? "Signing…" : `Get ${label ?? "download"} link`}
        </button>
      ) : (
        <a href={link} target="_blank" rel="noreferrer" download>
          Download
        </a>
      )}
      {error !== undefined && <span className="error-text"> {error}</span>}
    </span>
  );
}

function JsonBlock({ value }: { value: JsonValue }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

function ScalarView({ scalar }: { scalar: Scalar }) {
  const v = scalar.value;
  switch (v.case) {
    case "primitive":
      return <span className="literal-primitive">{primitiveText(v.value)}</span>;
    case "blob": {
      const dim = v.value.metadata?.type?.dimensionality;
      const kind = dim === BlobType_BlobDimensionality.MULTIPART ? "directory" : "file";
      const format = v.value.metadata?.type?.format;
      return (
        <span>
          {kind}
          {format ? ` (${format})` : ""}: <BlobLink uri={v.value.uri} />
        </span>
      );
    }
    case "structuredDataset":
      return (
        <span>
          dataset
          {v.value.metadata?.structuredDatasetType?.format
            ? ` (${v.value.metadata.structuredDatasetType.format})`
            : ""}
          : <BlobLink uri={v.value.uri} />
        </span>
      );
    case "schema":
      return (
        <span>
          schema: <BlobLink uri={v.value.uri} />
        </span>
      );
    case "binary":
      return (
        <span>
          binary{v.value.tag ? ` (${v.value.tag})` : ""}, {v.value.value.length} bytes
        </span>
      );
    case "noneType":
      return <em>None</em>;
    case "error":
      return (
        <span className="error-text">
          error{v.value.failedNodeId ? ` from ${v.value.failedNodeId}` : ""}: {v.value.message}
        </span>
      );
    case "generic":
      return <JsonBlock value={v.value} />;
    case "union":
      return v.value.value === undefined ? <em>(empty union)</em> : <LiteralView literal={v.value.value} />;
    case undefined:
      return <em>(empty)</em>;
  }
}

function CollectionView({ items }: { items: Literal[] }) {
  const [all, setAll] = useState(false);
  if (items.length === 0) return <span>[]</span>;
  const shown = all ? items : items.slice(0, SHOWN_ITEMS);
  return (
    <div>
      <ol className="literal-list" start={0}>
        {shown.map((item, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a collection's items are identified by their position
          <li key={i}>
            <LiteralView literal={item} />
          </li>
        ))}
      </ol>
      {shown.length < items.length && (
        <button type="button" className="small" onClick={() => setAll(true)}>
          Show all {items.length} items
        </button>
      )}
    </div>
  );
}

/** One literal as a plain value. */
export function LiteralView({ literal }: { literal: Literal }) {
  const v = literal.value;
  switch (v.case) {
    case "scalar":
      return <ScalarView scalar={v.value} />;
    case "collection":
      return <CollectionView items={v.value.literals} />;
    case "map":
      return <LiteralMapView map={v.value} />;
    case "offloadedMetadata":
      return (
        <span>
          offloaded value ({v.value.sizeBytes.toString()} bytes): <BlobLink uri={v.value.uri} />
        </span>
      );
    case undefined:
      return <em>(empty)</em>;
  }
}

/** Named literals (inputs, outputs, a map value) as a list of name → value. */
export function LiteralMapView({ map, empty = "none" }: { map: LiteralMap | undefined; empty?: string }) {
  const entries = Object.entries(map?.literals ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <em>{empty}</em>;
  return (
    <dl className="literal-map">
      {entries.map(([name, value]) => (
        <div key={name} className="literal-entry">
          <dt>{name}</dt>
          <dd>
            <LiteralView literal={value} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

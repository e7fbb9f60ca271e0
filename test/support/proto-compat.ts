// Compares our protocol definitions with flyteidl's reference ones, element by element, for wire compatibility.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import protobuf from "protobufjs";

type Root = protobuf.Root;
type Namespace = protobuf.Namespace;

export const REFERENCE_DIR = path.resolve(
  import.meta.dirname,
  "../../node_modules/@flyteorg/flyteidl/protos",
);
export const OURS_DIR = path.resolve(import.meta.dirname, "../../proto");

/** Loads .proto files from an include root; imports that only add options (HTTP/OpenAPI annotations) load empty. */
export function loadProtos(includeDir: string, files: readonly string[]): Root {
  const stub = path.join(os.tmpdir(), "petrel-empty.proto");
  fs.writeFileSync(stub, 'syntax = "proto3";\n');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (target.startsWith("google/api/") || target.startsWith("protoc-gen-openapiv2/")) return stub;
    if (target.startsWith("google/protobuf/")) return target;
    return path.isAbsolute(target) ? target : path.join(includeDir, target);
  };
  root.loadSync(
    files.map((f) => path.join(includeDir, f)),
    { keepCase: true },
  );
  root.resolveAll();
  return root;
}

export function listProtoFiles(dir: string, sub = ""): string[] {
  return fs.readdirSync(path.join(dir, sub), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(sub, e.name);
    if (e.isDirectory()) return listProtoFiles(dir, rel);
    return e.name.endsWith(".proto") ? [rel] : [];
  });
}

function typeName(f: protobuf.Field): string {
  return f.resolvedType !== null ? f.resolvedType.fullName : f.type;
}

function realOneof(f: protobuf.Field): string | undefined {
  const o = f.partOf;
  if (o === null || o === undefined) return undefined;
  const synthetic = f.options?.proto3_optional === true && o.oneof.length === 1;
  return synthetic ? undefined : o.name;
}

function describeField(f: protobuf.Field): string {
  const map = f instanceof protobuf.MapField ? `map<${f.keyType},` : "";
  const label =
    f.repeated && map === "" ? "repeated " : f.options?.proto3_optional === true ? "optional " : "";
  const oneof = realOneof(f);
  return `${label}${map}${typeName(f)}${map === "" ? "" : ">"} ${f.name} = ${f.id}${oneof === undefined ? "" : ` (oneof ${oneof})`}`;
}

export interface CompatReport {
  readonly differences: string[];
  /** Reference fields we leave out (allowed only for fields no Petrel code reads or writes). */
  readonly omitted: string[];
}

function compareType(ours: protobuf.Type, ref: protobuf.Type, report: CompatReport): void {
  const refById = new Map(ref.fieldsArray.map((f) => [f.id, f]));
  for (const f of ours.fieldsArray) {
    const r = refById.get(f.id);
    const where = `${ours.fullName.slice(1)}.${f.name}`;
    if (r === undefined) report.differences.push(`${where}: field ${f.id} is not in the reference`);
    else if (describeField(f) !== describeField(r)) {
      report.differences.push(`${where}: "${describeField(f)}" != reference "${describeField(r)}"`);
    }
  }
  const ourIds = new Set(ours.fieldsArray.map((f) => f.id));
  for (const r of ref.fieldsArray)
    if (!ourIds.has(r.id)) report.omitted.push(`${ref.fullName.slice(1)}.${r.name}`);
}

function compareEnum(ours: protobuf.Enum, ref: protobuf.Enum, report: CompatReport): void {
  const a = JSON.stringify(Object.entries(ours.values).sort());
  const b = JSON.stringify(Object.entries(ref.values).sort());
  if (a !== b) report.differences.push(`${ours.fullName.slice(1)}: enum values ${a} != reference ${b}`);
}

function compareService(ours: protobuf.Service, ref: protobuf.Service, report: CompatReport): void {
  const sig = (m: protobuf.Method) =>
    `${m.requestStream === true ? "stream " : ""}${m.resolvedRequestType?.fullName} -> ` +
    `${m.responseStream === true ? "stream " : ""}${m.resolvedResponseType?.fullName}`;
  const name = ours.fullName.slice(1);
  for (const m of ours.methodsArray) {
    const r = ref.methods[m.name];
    if (r === undefined) report.differences.push(`${name}.${m.name}: rpc is not in the reference`);
    else if (sig(m) !== sig(r))
      report.differences.push(`${name}.${m.name}: "${sig(m)}" != reference "${sig(r)}"`);
  }
  for (const r of ref.methodsArray) {
    if (ours.methods[r.name] === undefined) report.differences.push(`${name}.${r.name}: rpc missing`);
  }
}

function walk(ns: Namespace, ref: Root, report: CompatReport): void {
  for (const item of ns.nestedArray) {
    const other = ref.lookup(item.fullName);
    if (other === null) {
      if (
        !(item instanceof protobuf.Namespace) ||
        item instanceof protobuf.Type ||
        item instanceof protobuf.Service
      ) {
        report.differences.push(`${item.fullName.slice(1)}: not in the reference`);
        continue;
      }
    } else if (item instanceof protobuf.Type && other instanceof protobuf.Type)
      compareType(item, other, report);
    else if (item instanceof protobuf.Enum && other instanceof protobuf.Enum)
      compareEnum(item, other, report);
    else if (item instanceof protobuf.Service && other instanceof protobuf.Service)
      compareService(item, other, report);
    else if (item.constructor !== other.constructor) {
      report.differences.push(`${item.fullName.slice(1)}: kind differs from the reference`);
    }
    if (item instanceof protobuf.Namespace && !(item instanceof protobuf.Service)) walk(item, ref, report);
  }
}

/** Compares everything `ours` defines under the given package against `ref`. */
export function compareRoots(ours: Root, ref: Root, pkg: string): CompatReport {
  const report: CompatReport = { differences: [], omitted: [] };
  const top = ours.lookup(pkg);
  if (top instanceof protobuf.Namespace) walk(top, ref, report);
  else report.differences.push(`${pkg}: package not defined`);
  return report;
}

/** rpc names of a service in a root, or [] when the service is not there. */
export function rpcNames(root: Root, service: string): string[] {
  const s = root.lookup(service);
  return s instanceof protobuf.Service ? s.methodsArray.map((m) => m.name) : [];
}

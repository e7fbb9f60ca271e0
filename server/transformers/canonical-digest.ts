// Registration digests: SHA-256 over a canonical encoding of a message, so that two encodings of the same field
// values always digest alike, whatever client wrote them. Wire field order, map entry order (which protobuf leaves
// undefined, and Python's encoder does not keep stable) and unknown fields never count; fields holding their
// default value (implicit presence) are left out. FlyteAdmin gets the same equivalence by hashing the message's
// protobuf JSON (task-contract.md §7).
import { createHash } from "node:crypto";
import {
  type DescField,
  type DescMessage,
  isFieldSet,
  type Message,
  type MessageShape,
} from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";

type Local = Message & Record<string, unknown>;

/** Hex SHA-256 of `message` in canonical form. */
export function canonicalDigest<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): string {
  const writer = new BinaryWriter();
  writeMessage(writer, schema, message as Local);
  return createHash("sha256").update(writer.finish()).digest("hex");
}

const sortedFields = new WeakMap<DescMessage, readonly DescField[]>();

function fieldsByNumber(desc: DescMessage): readonly DescField[] {
  let fields = sortedFields.get(desc);
  if (fields === undefined) {
    fields = [...desc.fields].sort((a, b) => a.number - b.number);
    sortedFields.set(desc, fields);
  }
  return fields;
}

/**
 * The set fields in field-number order, every value length-delimited under its field's tag: for one schema the
 * encoding is unambiguous, so equal digests mean equal values. Lists keep their order; map entries go sorted by key.
 * Walks the plain message objects (the reflect API allocates a wrapper per message and halves the speed).
 */
function writeMessage(w: BinaryWriter, desc: DescMessage, m: Local): void {
  // A value in a representation this walk does not know must fail loudly, never digest as an empty message.
  if (m.$typeName !== desc.typeName) throw new Error(`canonical digest: expected ${desc.typeName}`);
  for (const field of fieldsByNumber(desc)) {
    if (!isFieldSet(m, field)) continue;
    const no = field.number;
    const value = field.oneof ? (m[field.oneof.localName] as { value: unknown }).value : m[field.localName];
    switch (field.fieldKind) {
      case "scalar":
      case "enum":
        writeScalar(w, no, value);
        break;
      case "message":
        writeSingular(w, field, value);
        break;
      case "list":
        for (const item of value as unknown[]) {
          if (field.listKind === "message") writeNested(w, no, field.message, item as Local);
          else writeScalar(w, no, item);
        }
        break;
      case "map": {
        const record = value as Record<string, unknown>;
        for (const key of Object.keys(record).sort()) {
          w.tag(no, WireType.LengthDelimited).fork();
          w.tag(1, WireType.LengthDelimited).string(key);
          if (field.mapKind === "message") writeNested(w, 2, field.message, record[key] as Local);
          else writeScalar(w, 2, record[key]);
          w.join();
        }
        break;
      }
    }
  }
}

/**
 * protobuf-es keeps two kinds of singular message fields as plain values: a google.protobuf.Struct (outside a
 * Value) as a JSON object, and a wrapper (outside a oneof) as its scalar.
 */
function writeSingular(w: BinaryWriter, field: DescField & { fieldKind: "message" }, value: unknown): void {
  if (
    field.message.typeName === "google.protobuf.Struct" &&
    field.parent.typeName !== "google.protobuf.Value"
  ) {
    w.tag(field.number, WireType.LengthDelimited).string(canonicalJson(value));
  } else if (field.oneof === undefined && isWrapperDesc(field.message)) {
    writeScalar(w, field.number, value);
  } else {
    writeNested(w, field.number, field.message, value as Local);
  }
}

function writeNested(w: BinaryWriter, no: number, desc: DescMessage, m: Local): void {
  w.tag(no, WireType.LengthDelimited).fork();
  writeMessage(w, desc, m);
  w.join();
}

/** Strings and bytes as they are; numbers, bigints, booleans and enums by their canonical text. */
function writeScalar(w: BinaryWriter, no: number, value: unknown): void {
  w.tag(no, WireType.LengthDelimited);
  if (value instanceof Uint8Array) w.bytes(value);
  else w.string(typeof value === "string" ? value : String(value));
}

/** JSON with object keys sorted; numbers by String() so that NaN and Infinity stay apart from null. */
function canonicalJson(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  const members = Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`);
  return `{${members.join(",")}}`;
}

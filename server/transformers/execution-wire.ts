// GetExecution and ListExecutions answers encoded from the stored bytes: the row's spec and closure are copied
// field by field (the fields the columns own, and those a list leaves out, skipped) and the columns' values written
// among them in field-number order, instead of decoding both messages and encoding them again. The result is the
// bytes rowToExecution / rowToExecutionSummary give once encoded (execution-wire.test.ts compares both).
import { WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import type { ExecutionAnswerRow } from "../repositories/execution-repo.js";
import { workflowPhase } from "./execution.js";

type Bytes = Uint8Array<ArrayBuffer>;

/** admin.ExecutionSpec.inputs (deprecated; a list leaves it out). */
const SPEC_INPUTS = 2;
/** admin.ExecutionClosure */
const CLOSURE = {
  outputs: 1,
  error: 2,
  computedInputs: 3,
  phase: 4,
  startedAt: 5,
  duration: 6,
  createdAt: 7,
  updatedAt: 8,
  abortCause: 10,
  abortMetadata: 12,
  outputData: 13,
} as const;
/** The closure's fields the row's columns own: dropped from the stored bytes, written from the columns. */
const FROM_COLUMNS = new Set<number>([
  CLOSURE.phase,
  CLOSURE.startedAt,
  CLOSURE.duration,
  CLOSURE.createdAt,
  CLOSURE.updatedAt,
]);
/** The closure's fields written from the columns, in number order. */
const COLUMN_FIELDS: readonly number[] = [
  CLOSURE.phase,
  CLOSURE.startedAt,
  CLOSURE.duration,
  CLOSURE.createdAt,
  CLOSURE.updatedAt,
  CLOSURE.abortMetadata,
];
const OUTPUT_RESULT = new Set<number>([
  CLOSURE.outputs,
  CLOSURE.error,
  CLOSURE.abortCause,
  CLOSURE.abortMetadata,
  CLOSURE.outputData,
]);
const VARINT = 0;
const LEN = 2;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** A byte sink of known size. */
class Out {
  readonly buf: Buffer<ArrayBuffer>;
  at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.at++] = n;
  }
  tag(field: number, type: number): void {
    this.varint(field * 8 + type);
  }
  /** A length-delimited field's tag and length. */
  head(field: number, length: number): void {
    this.tag(field, LEN);
    this.varint(length);
  }
  raw(bytes: Uint8Array, start = 0, end = bytes.length): void {
    this.buf.set(bytes.subarray(start, end), this.at);
    this.at += end - start;
  }
  field(field: number, bytes: Uint8Array): void {
    this.head(field, bytes.length);
    this.raw(bytes);
  }
  /** A string field of `length` UTF-8 bytes (omitted when empty, as proto3 does). */
  string(field: number, value: string, length: number): void {
    if (length === 0) return;
    this.head(field, length);
    this.at += this.buf.write(value, this.at, "utf8");
  }
  /** The spans (scanFields) of `bytes` whose field `keep` keeps. */
  kept(bytes: Uint8Array, spans: readonly number[], keep: (field: number) => boolean): void {
    for (let i = 0; i < spans.length; i += 3)
      if (keep(spans[i] as number)) this.raw(bytes, spans[i + 1], spans[i + 2]);
  }
}

/** Reads a varint of `bytes` at `at[0]`, moving it on; -1 past the end. */
function readVarint(bytes: Uint8Array, at: number[]): number {
  let n = 0;
  let scale = 1;
  let i = at[0] as number;
  for (;;) {
    const b = bytes[i++];
    if (b === undefined) return -1;
    n += (b & 0x7f) * scale;
    if (b < 0x80) {
      at[0] = i;
      return n;
    }
    scale *= 0x80;
  }
}

/** Where each top-level field of `bytes` starts and ends, with its number; undefined for groups or bad bytes. */
function scanFields(bytes: Uint8Array): number[] | undefined {
  const spans: number[] = [];
  const at = [0];
  while ((at[0] as number) < bytes.length) {
    const start = at[0] as number;
    const tag = readVarint(bytes, at);
    if (tag < 0) return undefined;
    const type = tag & 7;
    if (type === VARINT) {
      if (readVarint(bytes, at) < 0) return undefined;
    } else if (type === 1 || type === 5) at[0] = (at[0] as number) + (type === 1 ? 8 : 4);
    else if (type === LEN) {
      const n = readVarint(bytes, at);
      if (n < 0) return undefined;
      at[0] = (at[0] as number) + n;
    } else return undefined;
    if ((at[0] as number) > bytes.length) return undefined;
    spans.push(Math.floor(tag / 8), start, at[0] as number);
  }
  return spans;
}

/** The size of a Timestamp / Duration field of `ms` milliseconds, as protobuf-es's helpers make it. */
function time(ms: number): { seconds: number; nanos: number; size: number } {
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  const size = (seconds === 0 ? 0 : 1 + varintSize(seconds)) + (nanos === 0 ? 0 : 1 + varintSize(nanos));
  return { seconds, nanos, size };
}

function writeTime(out: Out, field: number, t: ReturnType<typeof time>): void {
  out.head(field, t.size);
  if (t.seconds !== 0) {
    out.tag(1, VARINT);
    out.varint(t.seconds);
  }
  if (t.nanos !== 0) {
    out.tag(2, VARINT);
    out.varint(t.nanos);
  }
}

const fieldSize = (field: number, length: number) => varintSize(field * 8) + varintSize(length) + length;
const stringSize = (field: number, length: number) => (length === 0 ? 0 : fieldSize(field, length));

type Keep = (field: number) => boolean;
const KEEP_ALL: Keep = () => true;
const KEEP_SPEC_SUMMARY: Keep = (f) => f !== SPEC_INPUTS;
const KEEP_CLOSURE: Keep = (f) => !FROM_COLUMNS.has(f);
const KEEP_CLOSURE_SUMMARY: Keep = (f) => !FROM_COLUMNS.has(f) && f !== CLOSURE.computedInputs;

/**
 * The encoded admin.Execution of a row; `summary` for the list form (no inputs). Undefined where the stored bytes
 * must be decoded after all: a list entry with an error (its message is cut to 100 characters), or stored bytes
 * this scanner does not read.
 */
export function executionWire(row: ExecutionAnswerRow, summary: boolean): Bytes | undefined {
  const closureSpans = scanFields(row.closure);
  const specSpans = summary ? scanFields(row.spec) : [0, 0, row.spec.length];
  if (closureSpans === undefined || specSpans === undefined) return undefined;
  if (summary && hasField(closureSpans, CLOSURE.error)) return undefined;
  // Times before 1970 would need sign-extended varints: left to the decoder, as are unreadable bytes.
  if (
    Math.min(
      row.execution_created_at.getTime(),
      row.execution_updated_at.getTime(),
      row.started_at?.getTime() ?? 0,
    ) < 0
  )
    return undefined;
  const keepSpec = summary ? KEEP_SPEC_SUMMARY : KEEP_ALL;
  const keepClosure = summary ? KEEP_CLOSURE_SUMMARY : KEEP_CLOSURE;
  const specSize = keptSize(specSpans, keepSpec);
  let closureSize = keptSize(closureSpans, keepClosure);

  const phase = workflowPhase(row.phase);
  if (phase !== WorkflowExecution_Phase.UNDEFINED) closureSize += 1 + varintSize(phase);
  const started = row.started_at === null ? undefined : time(row.started_at.getTime());
  if (started !== undefined) closureSize += fieldSize(CLOSURE.startedAt, started.size);
  const duration = row.duration > 0 ? time(Math.round(row.duration * 1000)) : undefined;
  if (duration !== undefined) closureSize += fieldSize(CLOSURE.duration, duration.size);
  const created = time(row.execution_created_at.getTime());
  const updated = time(row.execution_updated_at.getTime());
  closureSize += fieldSize(CLOSURE.createdAt, created.size) + fieldSize(CLOSURE.updatedAt, updated.size);
  const hasResult = hasAnyField(closureSpans, OUTPUT_RESULT);
  const aborted = phase === WorkflowExecution_Phase.ABORTED && !hasResult;
  const cause = aborted ? Buffer.byteLength(row.abort_cause) : 0;
  const abortSize = cause === 0 ? 0 : fieldSize(1, cause);
  if (aborted) closureSize += fieldSize(CLOSURE.abortMetadata, abortSize);

  const project = Buffer.byteLength(row.execution_project);
  const domain = Buffer.byteLength(row.execution_domain);
  const name = Buffer.byteLength(row.execution_name);
  const idSize = stringSize(1, project) + stringSize(2, domain) + stringSize(4, name);

  const out = new Out(fieldSize(1, idSize) + fieldSize(2, specSize) + fieldSize(3, closureSize));
  out.head(1, idSize);
  out.string(1, row.execution_project, project);
  out.string(2, row.execution_domain, domain);
  out.string(4, row.execution_name, name);
  out.head(2, specSize);
  out.kept(row.spec, specSpans, keepSpec);
  out.head(3, closureSize);
  // In field-number order, as protobuf-es writes a message: each column's field goes in before the first stored
  // field with a higher number (the answer is then byte for byte what decoding and encoding again gives).
  const writeColumn = (field: number) => {
    if (field === CLOSURE.phase) {
      if (phase === WorkflowExecution_Phase.UNDEFINED) return;
      out.tag(CLOSURE.phase, VARINT);
      out.varint(phase);
    } else if (field === CLOSURE.startedAt) {
      if (started !== undefined) writeTime(out, CLOSURE.startedAt, started);
    } else if (field === CLOSURE.duration) {
      if (duration !== undefined) writeTime(out, CLOSURE.duration, duration);
    } else if (field === CLOSURE.createdAt) writeTime(out, CLOSURE.createdAt, created);
    else if (field === CLOSURE.updatedAt) writeTime(out, CLOSURE.updatedAt, updated);
    else if (field === CLOSURE.abortMetadata && aborted) {
      out.head(CLOSURE.abortMetadata, abortSize);
      out.string(1, row.abort_cause, cause);
    }
  };
  let next = 0;
  for (let i = 0; i < closureSpans.length; i += 3) {
    const field = closureSpans[i] as number;
    if (!keepClosure(field)) continue;
    while (next < COLUMN_FIELDS.length && (COLUMN_FIELDS[next] as number) < field)
      writeColumn(COLUMN_FIELDS[next++] as number);
    out.raw(row.closure, closureSpans[i + 1], closureSpans[i + 2]);
  }
  while (next < COLUMN_FIELDS.length) writeColumn(COLUMN_FIELDS[next++] as number);
  return out.buf;
}

const hasField = (spans: readonly number[], field: number): boolean => {
  for (let i = 0; i < spans.length; i += 3) if (spans[i] === field) return true;
  return false;
};

const hasAnyField = (spans: readonly number[], fields: ReadonlySet<number>): boolean => {
  for (let i = 0; i < spans.length; i += 3) if (fields.has(spans[i] as number)) return true;
  return false;
};

function keptSize(spans: readonly number[], keep: (field: number) => boolean): number {
  let size = 0;
  for (let i = 0; i < spans.length; i += 3)
    if (keep(spans[i] as number)) size += (spans[i + 2] as number) - (spans[i + 1] as number);
  return size;
}

/** A message holding `bytes` (an encoded message) as its field `field`, and nothing else. */
export function messageField(field: number, bytes: Uint8Array): Bytes {
  const out = new Out(fieldSize(field, bytes.length));
  out.field(field, bytes);
  return out.buf;
}

/** `repeated Execution executions = 1; string token = 2;` from the executions' encodings. */
export function executionListWire(parts: readonly Uint8Array[], token: string): Bytes {
  const tokenLength = Buffer.byteLength(token);
  let size = stringSize(2, tokenLength);
  for (const p of parts) size += fieldSize(1, p.length);
  const out = new Out(size);
  for (const p of parts) out.field(1, p);
  out.string(2, token, tokenLength);
  return out.buf;
}

// SignalService: gate nodes create signals; clients list and set them. Setting a value wakes the execution at once.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import {
  type Signal,
  type SignalGetOrCreateRequest,
  type SignalList,
  type SignalListRequest,
  SignalListSchema,
  SignalSchema,
  type SignalSetRequest,
} from "../../gen/flyteidl/admin/signal_pb.js";
import { type SignalIdentifier, SignalIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import { type Literal, LiteralSchema, type Primitive } from "../../gen/flyteidl/core/literals_pb.js";
import { type LiteralType, LiteralTypeSchema, SimpleType } from "../../gen/flyteidl/core/types_pb.js";
import { formatType, isLiteralCastable } from "../compiler/type-cast.js";
import { invalidArgument, invalidField, missingField } from "../errors.js";
import { retryConflicts } from "../repositories/conflict-retry.js";
import * as repo from "../repositories/signal-repo.js";
import { handedEvaluation, type LocalEngine } from "../repositories/work-repo.js";
import { modelText } from "../transformers/model-text.js";
import { validateIdText } from "../validation/identifier-validator.js";
import { validateExecutionId } from "./execution-manager.js";

function keyOf(id: SignalIdentifier | undefined): repo.SignalKey {
  if (id === undefined) throw missingField("id");
  if (id.signalId === "") throw missingField("signal_id");
  const e = validateExecutionId(id.executionId);
  // Signals are keyed by execution name without the execution having to exist: the key is checked as names are.
  validateIdText("project", e.project);
  validateIdText("domain", e.domain);
  validateIdText("name", e.name);
  validateIdText("signal_id", id.signalId);
  return {
    execution_project: e.project,
    execution_domain: e.domain,
    execution_name: e.name,
    signal_id: id.signalId,
  };
}

export function rowToSignal(row: repo.SignalRow): Signal {
  return create(SignalSchema, {
    id: {
      signalId: row.signal_id,
      executionId: { project: row.execution_project, domain: row.execution_domain, name: row.execution_name },
    },
    type: fromBinary(LiteralTypeSchema, row.type),
    ...(row.value === null ? {} : { value: fromBinary(LiteralSchema, row.value) }),
  });
}

const PRIMITIVE_TYPES: Partial<Record<NonNullable<Primitive["value"]["case"]>, SimpleType>> = {
  integer: SimpleType.INTEGER,
  floatValue: SimpleType.FLOAT,
  stringValue: SimpleType.STRING,
  boolean: SimpleType.BOOLEAN,
  datetime: SimpleType.DATETIME,
  duration: SimpleType.DURATION,
};

/** The encoded simple type of a primitive literal (as a signal of that type stores it); undefined otherwise. */
function primitiveTypeOf(value: Literal): Buffer | undefined {
  if (value.value.case !== "scalar" || value.value.value.value.case !== "primitive") return undefined;
  const kind = value.value.value.value.value.value.case;
  const simple = kind === undefined ? undefined : PRIMITIVE_TYPES[kind];
  if (simple === undefined) return undefined;
  return Buffer.from(
    toBinary(LiteralTypeSchema, create(LiteralTypeSchema, { type: { case: "simple", value: simple } })),
  );
}

export class SignalManager {
  private engine: LocalEngine | undefined;

  constructor(private readonly db: Knex) {}

  /** From now on, the evaluation a set signal asks for is handed to `engine` (see LocalEngine). */
  setLocalEngine(engine: LocalEngine): void {
    this.engine = engine;
  }

  /** Hands the evaluation a stored value queued to the local engine, when it was leased to it. */
  private handOver(queued: Awaited<ReturnType<typeof repo.setSignalValue>>): void {
    if (queued?.leased === true && this.engine !== undefined)
      this.engine.accept([handedEvaluation(this.engine, queued.workItemId, queued.executionId)]);
  }

  async getOrCreateSignal(req: SignalGetOrCreateRequest, db: Knex = this.db): Promise<Signal> {
    const key = keyOf(req.id);
    if (req.type === undefined) throw missingField("type");
    return rowToSignal(
      await repo.getOrCreateSignal(db, key, Buffer.from(toBinary(LiteralTypeSchema, req.type))),
    );
  }

  /** The engine's side: create the gate's signal if needed and return its value, if set. */
  async awaitSignal(db: Knex, key: repo.SignalKey, type: LiteralType): Promise<Literal | undefined> {
    const row = await repo.getOrCreateSignal(db, key, Buffer.from(toBinary(LiteralTypeSchema, type)));
    return row.value === null ? undefined : fromBinary(LiteralSchema, row.value);
  }

  async listSignals(req: SignalListRequest): Promise<SignalList> {
    if (req.workflowExecutionId === undefined) throw missingField("execution_id");
    const e = validateExecutionId(req.workflowExecutionId);
    if (req.limit === 0) throw invalidField("limit");
    const page = await repo.listSignals(this.db, e, req);
    return create(SignalListSchema, { signals: page.rows.map(rowToSignal), token: page.token });
  }

  /** Stores the value; `setBy` (the authenticated caller, if any) is recorded with it. */
  async setSignal(req: SignalSetRequest, setBy = ""): Promise<void> {
    const key = keyOf(req.id);
    if (req.value === undefined) throw missingField("value");
    const value = req.value;
    const text = req.id === undefined ? "" : modelText(SignalIdentifierSchema, req.id);
    // A deadlock or serialization failure left (the lock order below avoids the one with the engine) is retried.
    const queued = await retryConflicts(() =>
      this.db.transaction((trx) => this.storeValue(trx, key, text, value, setBy)),
    );
    this.handOver(queued);
  }

  /** Locks as an evaluation does — the execution, then the signal (and the work item) — and stores the value. */
  private async storeValue(
    trx: Knex.Transaction,
    key: repo.SignalKey,
    text: string,
    value: Literal,
    setBy: string,
  ) {
    await repo.lockSignalExecution(trx, key);
    const encoded = Buffer.from(toBinary(LiteralSchema, value));
    // A primitive value set on a signal of exactly its type needs no check: one statement.
    const own = primitiveTypeOf(value);
    const stored =
      own === undefined
        ? undefined
        : await repo.setSignalValue(trx, { key, type: own }, encoded, setBy, this.engine);
    if (stored !== undefined) return stored;
    // The type is fixed when the gate creates the signal, so the check needs no lock on it.
    const row = await repo.getSignal(trx, key);
    if (row === undefined)
      throw invalidArgument(`failed to validate that signal [${text}] exists, err: [signal does not exist]`);
    const type = fromBinary(LiteralTypeSchema, row.type);
    if (!isLiteralCastable(value, type)) {
      throw invalidArgument(
        `requested signal value [${modelText(LiteralSchema, value)}] is not castable to existing signal type [${formatType(type)}]`,
      );
    }
    return repo.setSignalValue(trx, { id: row.id }, encoded, setBy, this.engine);
  }
}

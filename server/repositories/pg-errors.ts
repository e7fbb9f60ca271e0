// Maps database failures to the AppError a client sees, by SQLSTATE (or the driver's error). The database's own text
// never reaches a client: it names constraints, tables, values, hosts and socket paths. The original error travels
// as the AppError's cause, and the error interceptor logs it.
import { AppError, alreadyExists, Code, internal, unavailable } from "../errors.js";

interface DbError {
  readonly code?: unknown;
  readonly message: string;
  readonly table?: unknown;
  readonly name?: unknown;
}

export const RETRYABLE_CODES: ReadonlySet<string> = new Set(["40001", "40P01"]);

/** Node's network errors (a refused or reset connection, an unknown host, a missing socket file). */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOENT",
]);

/**
 * SQLSTATEs and classes meaning the database cannot serve now: 08 connection exception, 53 insufficient resources
 * (disk full, out of memory, too many connections), 57 operator intervention (shutdown, cancel), 58 system (I/O)
 * error, a database that is gone, and a login it refuses.
 */
const UNAVAILABLE_CLASSES: ReadonlySet<string> = new Set(["08", "53", "57", "58"]);
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set(["3D000", "28000", "28P01"]);
/** 08P01 is a malformed message (a bug or an oversized statement), not a lost connection. */
const PROTOCOL_VIOLATION = "08P01";
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** What node-postgres, its pool, knex and tarn throw when there is no usable connection. */
const CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /^Client has encountered a connection error/,
  /^Client was closed and is not queryable/,
  /^Cannot use a pool after calling end/,
  /^timeout exceeded when trying to connect/,
  /^timeout expired$/,
  /^Query read timeout$/,
  /^Knex: Timeout acquiring a connection/,
  /^Unable to acquire a connection$/,
  /^aborted$/,
];

/** What a client is told about a value the database refused (SQLSTATE class 22). */
const DATA_EXCEPTIONS: Readonly<Record<string, string>> = {
  "22001": "a value is too long",
  "22003": "a number is out of range",
  "22007": "a date or time is malformed",
  "22008": "a date or time is out of range",
  "22009": "a time zone offset is out of range",
  "22021": "a text contains a character the database cannot store",
  "22025": "a pattern has an invalid escape",
  "22P02": "a value is malformed",
  "22P05": "a text contains a character the database cannot store",
};

/** What a client is told about a statement beyond the database's limits (SQLSTATE class 54), e.g. a value too large
 * for an index entry: the input made it so. */
const LIMIT_EXCEPTIONS: Readonly<Record<string, string>> = {
  "54000": "a value is too large to store",
  "54001": "a request is too complex",
};

/** How a duplicate is described, by the table of the unique key it broke. */
const ENTITY_NAMES: Readonly<Record<string, string>> = {
  executions: "execution",
  projects: "project",
  tasks: "task",
  workflows: "workflow",
  launch_plans: "launch plan",
  node_executions: "node execution",
  task_executions: "task execution",
  signals: "signal",
  named_entity_metadata: "named entity",
  description_entities: "description entity",
  resource_attributes: "attributes",
};

function isDbError(err: unknown): err is DbError {
  return (
    typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string"
  );
}

const codeOf = (err: DbError): string => (typeof err.code === "string" ? err.code : "");

export function isUniqueViolation(err: unknown): boolean {
  return isDbError(err) && codeOf(err) === "23505";
}

/** Whether the error is a serialization failure or deadlock: the database's own, or one an AppError carries. */
export function isRetryable(err: unknown): boolean {
  const db = err instanceof AppError ? err.cause : err;
  return isDbError(db) && RETRYABLE_CODES.has(codeOf(db));
}

/** Whether the error says the database cannot be reached or cannot serve now (rather than refusing a statement). */
export function isUnavailable(err: unknown): boolean {
  if (!isDbError(err)) return false;
  const code = codeOf(err);
  if (NETWORK_CODES.has(code) || UNAVAILABLE_CODES.has(code)) return true;
  if (SQLSTATE.test(code)) return UNAVAILABLE_CLASSES.has(code.slice(0, 2)) && code !== PROTOCOL_VIOLATION;
  return err.name === "KnexTimeoutError" || CONNECTION_MESSAGES.some((re) => re.test(err.message));
}

/** ALREADY_EXISTS with FlyteAdmin's text, naming the kind of entity instead of quoting Postgres. */
export function duplicateOf(table: string): AppError {
  return alreadyExists(`value with matching already exists (duplicate ${ENTITY_NAMES[table] ?? "entry"})`);
}

/** Turns a database error into the AppError a client should see; AppErrors pass through. */
export function mapDbError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (!isDbError(err)) return internal("failed database operation", err);
  const code = codeOf(err);
  if (code === "23505") {
    const dup = duplicateOf(typeof err.table === "string" ? err.table : "");
    return new AppError(dup.code, dup.message, { cause: err });
  }
  if (isUnavailable(err)) return unavailable("database unavailable", err);
  if (RETRYABLE_CODES.has(code)) {
    return new AppError(Code.Aborted, "database transaction conflict; retry", { cause: err });
  }
  if (SQLSTATE.test(code) && code.startsWith("22")) {
    const why = DATA_EXCEPTIONS[code] ?? "a value was refused";
    return new AppError(Code.InvalidArgument, `invalid value: ${why}`, { cause: err });
  }
  if (SQLSTATE.test(code) && code.startsWith("54")) {
    const why = LIMIT_EXCEPTIONS[code] ?? "a request exceeds a database limit";
    return new AppError(Code.InvalidArgument, `invalid value: ${why}`, { cause: err });
  }
  return internal("failed database operation", err);
}

/** Runs a database operation and maps whatever it throws. */
export async function withDbErrors<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw mapDbError(err);
  }
}

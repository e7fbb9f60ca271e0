// Maps Postgres failures (by SQLSTATE) to AppErrors with Flyte's texts.
import { AppError, alreadyExists, Code, unavailable } from "../errors.js";

interface PgError {
  readonly code?: string;
  readonly message: string;
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08003",
  "08006",
]);
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(["40001", "40P01"]);

function isPgError(err: unknown): err is PgError {
  return typeof err === "object" && err !== null && "message" in err;
}

export function isUniqueViolation(err: unknown): boolean {
  return isPgError(err) && err.code === "23505";
}

export function isRetryable(err: unknown): boolean {
  return isPgError(err) && err.code !== undefined && RETRYABLE_CODES.has(err.code);
}

/** knex prefixes the SQL text to pg's message; clients only see pg's own message. */
function pgMessage(err: PgError): string {
  const m = /^(?:insert|update|select|delete|with)\b[\s\S]* - ([\s\S]*)$/i.exec(err.message);
  return m?.[1] ?? err.message;
}

/** Turns a database error into the AppError a client should see; AppErrors pass through. */
export function mapDbError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (!isPgError(err)) return new AppError(Code.Unknown, `failed database operation with ${String(err)}`);
  if (err.code === "23505") return alreadyExists(`value with matching already exists (${pgMessage(err)})`);
  if (err.code !== undefined && CONNECTION_CODES.has(err.code)) {
    return unavailable(`database unavailable: ${pgMessage(err)}`, err);
  }
  if (/Knex: Timeout acquiring a connection/.test(err.message))
    return unavailable("database unavailable", err);
  return new AppError(Code.Unknown, `failed database operation with ${pgMessage(err)}`, { cause: err });
}

/** Runs a database operation and maps whatever it throws. */
export async function withDbErrors<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw mapDbError(err);
  }
}

// What no answer of the server may contain: codes that mean the server failed (INTERNAL, UNKNOWN, DATA_LOSS, and
// UNIMPLEMENTED for an rpc that is built), and text that belongs inside the server: Postgres and knex errors,
// SQLSTATEs, JavaScript runtime errors and stack frames, file-system and socket paths.
import os from "node:os";
import { Code } from "@connectrpc/connect";

export const FAILURE_CODES: ReadonlySet<Code> = new Set([Code.Internal, Code.Unknown, Code.DataLoss]);

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const INTERNAL_TEXT: readonly RegExp[] = [
  // Postgres and its drivers.
  /violates/i,
  /\bconstraint\b/i,
  /\brelation\b/i,
  /syntax error/i,
  /invalid input syntax/i,
  /out of range for type/i,
  /duplicate key/i,
  /\bSQLSTATE\b/i,
  /\bknex\b/i,
  /\bpg_[a-z]/,
  /\.s\.PGSQL/,
  /\bdatabase "[^"]*"/,
  /\bcolumn "[^"]*"/,
  /\btable "[^"]*"/,
  /invalid byte sequence/i,
  /encoding "UTF8"/,
  // SQLSTATEs: a 5-character code with a letter in it (22P02, 42P01, XX000) or a well-known all-digit one.
  /(?<![\w:.-])(?=[0-9A-Z]*[A-Z])[0-9]{2}[0-9A-Z]{3}(?![\w:.-])/,
  /\bXX[0-9]{3}\b/,
  /\b(?:23505|23503|23502|23514|22001|22003|22007|22008|22021|40001|40P01|42703|42601|42883|54001|57014)\b/,
  // JavaScript runtime errors and stack traces.
  /\b(?:Type|Range|Reference|Syntax|Eval|URI|Aggregate)Error\b/,
  /Cannot (?:read|set) propert/,
  /is not a function/,
  /is not iterable/,
  /\bundefined\b/,
  /\[object Object\]/,
  /Maximum call stack/,
  /Invalid (?:array|string) length/,
  /\n\s+at /,
  / at \//,
  / at (?:async )?[\w.<>]+ \(/,
  /node_modules/,
  /node:internal/,
  /\.[cm]?[jt]s:\d+/,
  /\bfile:\/\//,
  // Node's system errors and the server's own paths.
  /\bE(?:NOENT|ACCES|ISDIR|NOTDIR|CONNREFUSED|CONNRESET|PIPE|MFILE|ADDRINUSE)\b/,
  ...[process.cwd(), `${os.tmpdir()}/`, os.homedir()]
    .filter((p) => p.length > 2)
    .map((p) => new RegExp(literal(p))),
];

/** The first piece of internal text in an error message, if any. */
export function internalTextIn(message: string): string | undefined {
  for (const re of INTERNAL_TEXT) {
    const m = re.exec(message);
    if (m !== null) return `${re.source} matched ${JSON.stringify(m[0])}`;
  }
  return undefined;
}

/** Why an error answer is wrong, or undefined when it is fine. `built`: the rpc has an implementation. */
export function badAnswer(code: Code, message: string, built: boolean): string | undefined {
  if (FAILURE_CODES.has(code)) return `code ${Code[code]}`;
  if (built && code === Code.Unimplemented) return "code Unimplemented for an rpc that is built";
  // The shared request checks run before the router finds no implementation: INVALID_ARGUMENT is fine too.
  if (!built && code !== Code.Unimplemented && code !== Code.InvalidArgument)
    return `code ${Code[code]} for an rpc that is not built`;
  if (code === Code.DeadlineExceeded) return "no answer before the deadline";
  const leak = internalTextIn(message);
  return leak === undefined ? undefined : `internal text (${leak})`;
}

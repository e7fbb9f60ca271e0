// Idempotent registration: identical re-registration → ALREADY_EXISTS, different content under the same id →
// INVALID_ARGUMENT with a readable diff. Insert first and let the unique key arbitrate, so concurrent identical
// registrations of one id never fail any other way.
import { AppError, alreadyExists, Code, type ErrorDetail, invalidArgument } from "../errors.js";
import { jsonDiff } from "../transformers/json-diff.js";

export interface Registration<Row extends { digest: string }> {
  /** "task", "workflow" or "launch plan". */
  readonly kind: string;
  readonly name: string;
  /** canonicalDigest of the new artifact. */
  readonly digest: string;
  insert(): Promise<Row>;
  loadExisting(): Promise<Row | undefined>;
  /** canonicalDigest of the stored artifact, recomputed from its stored bytes. */
  existingDigest(row: Row): string;
  /** The JSON compared in the diff: the stored artifact and the new one (built only when there is a diff to show). */
  existingJson(row: Row): unknown;
  newJson(): unknown;
  readonly identicalDetails?: readonly ErrorDetail[];
  readonly differentDetails?: readonly ErrorDetail[];
}

const MAX_DIFF_BYTES = 3 * 1024 * 1024;

export async function registerOnce<Row extends { digest: string }>(r: Registration<Row>): Promise<Row> {
  try {
    return await r.insert();
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== Code.AlreadyExists) throw err;
    const existing = await r.loadExisting();
    if (existing === undefined) throw err;
    // Rows stored before digests were canonical hold a SHA-256 of wire bytes, which an identical registration
    // need not reproduce; so when the stored digest differs, the stored artifact's canonical digest decides. Only
    // that rare path pays for decoding the row, and no stored digest needs rewriting.
    if (existing.digest === r.digest || r.existingDigest(existing) === r.digest) {
      throw alreadyExists(`${r.kind} with identical structure already exists`, r.identicalDetails);
    }
    const diff = jsonDiff(r.existingJson(existing), r.newJson()).slice(0, MAX_DIFF_BYTES);
    throw invalidArgument(
      `${r.name} ${r.kind} with different structure already exists. (Please register a new version of the ${r.kind}):\n${diff}`,
      r.differentDetails,
    );
  }
}

// One error type for the whole server: a gRPC code, a client-facing message and optional typed details.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";

export { Code };

/** A typed detail that travels in google.rpc.Status.details. */
export interface ErrorDetail<Desc extends DescMessage = DescMessage> {
  readonly desc: Desc;
  readonly value: MessageShape<Desc>;
}

export class AppError extends Error {
  readonly code: Code;
  readonly details: readonly ErrorDetail[];

  constructor(code: Code, message: string, opts: { cause?: unknown; details?: readonly ErrorDetail[] } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "AppError";
    this.code = code;
    this.details = opts.details ?? [];
  }
}

export const invalidArgument = (message: string, details?: readonly ErrorDetail[]): AppError =>
  new AppError(Code.InvalidArgument, message, details === undefined ? {} : { details });
export const notFound = (message: string): AppError => new AppError(Code.NotFound, message);
export const alreadyExists = (message: string, details?: readonly ErrorDetail[]): AppError =>
  new AppError(Code.AlreadyExists, message, details === undefined ? {} : { details });
export const failedPrecondition = (message: string, details?: readonly ErrorDetail[]): AppError =>
  new AppError(Code.FailedPrecondition, message, details === undefined ? {} : { details });
export const unavailable = (message: string, cause?: unknown): AppError =>
  new AppError(Code.Unavailable, message, { cause });
export const internal = (message: string, cause?: unknown): AppError =>
  new AppError(Code.Internal, message, { cause });

/** Flyte's `missing <field>` (InvalidArgument). */
export const missingField = (field: string): AppError => invalidArgument(`missing ${field}`);
/** Flyte's `invalid value for <field>` (InvalidArgument). */
export const invalidField = (field: string): AppError => invalidArgument(`invalid value for ${field}`);

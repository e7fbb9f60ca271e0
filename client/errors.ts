// Client errors typed by gRPC code, keeping the server's message and details (flytekit's exception mapping).
import { Code, ConnectError } from "@connectrpc/connect";

export class PetrelError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    override readonly cause: ConnectError | undefined,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** Typed details sent with the error (e.g. EventFailureReason, CreateWorkflowFailureReason). */
  get details(): ConnectError["details"] {
    return this.cause?.details ?? [];
  }
}

export class EntityAlreadyExistsError extends PetrelError {}
export class EntityNotFoundError extends PetrelError {}
export class InvalidInputError extends PetrelError {}
export class FailedPreconditionError extends PetrelError {}
export class SystemUnavailableError extends PetrelError {}
export class AuthenticationError extends PetrelError {}
export class TimeoutError extends PetrelError {}
export class UnimplementedError extends PetrelError {}
export class SystemError extends PetrelError {}

const BY_CODE: Partial<Record<Code, new (code: Code, message: string, cause: ConnectError) => PetrelError>> =
  {
    [Code.AlreadyExists]: EntityAlreadyExistsError,
    [Code.NotFound]: EntityNotFoundError,
    [Code.InvalidArgument]: InvalidInputError,
    [Code.FailedPrecondition]: FailedPreconditionError,
    [Code.Unavailable]: SystemUnavailableError,
    [Code.Unauthenticated]: AuthenticationError,
    [Code.DeadlineExceeded]: TimeoutError,
    [Code.Unimplemented]: UnimplementedError,
  };

/** Any error from an rpc as a typed PetrelError. */
export function toPetrelError(err: unknown): PetrelError {
  if (err instanceof PetrelError) return err;
  const ce = ConnectError.from(err);
  const Type = BY_CODE[ce.code] ?? SystemError;
  return new Type(ce.code, ce.rawMessage, ce);
}

/**
 * A blob transfer over a signed URL that failed: the storage side answered `status` (its text is in the message), or
 * the connection failed (`status` undefined). URLs are named without their query, so signatures never leak.
 */
export class BlobTransferError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No blob at the URI (a 404 of its signed GET), or no file under a directory there. */
export class BlobNotFoundError extends BlobTransferError {}

/**
 * A name that matches nothing (no workflow of that name in the project and domain, no launch plan of that workflow
 * version): the message names where it looked; `suggestions` are close names to try instead.
 */
export class NameNotFoundError extends EntityNotFoundError {
  constructor(
    message: string,
    readonly suggestions: readonly string[] = [],
  ) {
    super(Code.NotFound, message, undefined);
  }
}

/**
 * No signal with this id in the execution: a typo, or the gate has not been reached yet (a gate creates its
 * signal when the execution gets to it; `waitForSignal` waits for that). `available` are the signals it has.
 */
export class SignalNotFoundError extends EntityNotFoundError {
  constructor(
    readonly signalId: string,
    readonly executionName: string,
    readonly available: readonly string[],
    cause?: ConnectError,
  ) {
    super(
      Code.NotFound,
      `no signal "${signalId}" in execution ${executionName} (${
        available.length === 0
          ? "it has no signals yet: a gate creates its signal when the execution reaches it"
          : `its signals: ${available.join(", ")}`
      })`,
      cause,
    );
  }
}

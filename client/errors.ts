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

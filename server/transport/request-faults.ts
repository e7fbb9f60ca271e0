// Request bytes Connect cannot read but reports as Internal (a binary message that does not decode, a message
// flagged compressed with no compression named): the fault is the client's, so they answer InvalidArgument with a
// fixed text, on the direct gRPC path and on Connect's path alike (connect-faults.ts rewrites Connect's answers).
import { Code, ConnectError } from "@connectrpc/connect";

const PARSE_BINARY = "parse binary: ";
const COMPRESSED_WITHOUT_ENCODING = "received compressed envelope, but do not know how to decompress";
/** protobuf-es's default recursion limit for binary input. */
const MAX_DEPTH = 100;

function decodeProblem(detail: string): string {
  if (/utf-8/i.test(detail)) return "a string field is not valid UTF-8";
  if (detail.includes("recursion depth")) return `messages are nested more than ${MAX_DEPTH} levels deep`;
  return "the bytes are not a valid protobuf message";
}

/**
 * The answer for a request fault Connect reported as `code`/`message`, or undefined when it is not one.
 * `input` names the request message type.
 */
export function requestFault(code: Code, message: string, input: string): ConnectError | undefined {
  if (code !== Code.Internal) return undefined;
  if (message === COMPRESSED_WITHOUT_ENCODING) {
    return new ConnectError(
      "protocol error: a message is flagged compressed but the request names no compression",
      Code.InvalidArgument,
    );
  }
  if (!message.startsWith(PARSE_BINARY)) return undefined;
  const problem = decodeProblem(message.slice(PARSE_BINARY.length));
  return new ConnectError(`cannot decode message ${input} from binary: ${problem}`, Code.InvalidArgument);
}

/** `requestFault` for a thrown error; anything else is returned as it is. */
export function asRequestFault(err: unknown, input: string): unknown {
  if (!(err instanceof ConnectError)) return err;
  return requestFault(err.code, err.rawMessage, input) ?? err;
}

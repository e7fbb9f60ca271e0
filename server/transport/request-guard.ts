// The request guard: every request message, on Connect's path and on the direct gRPC path alike, passes the shared
// checks of validation/message-guard.ts (NUL characters, undeclared enum values, out-of-range durations, timestamps
// and integers) before a handler sees it. It sits inside the error interceptor, which turns its AppError into
// INVALID_ARGUMENT.
import type { DescMessage, Message } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { checkMessage } from "../validation/message-guard.js";

async function* checked(desc: DescMessage, messages: AsyncIterable<Message>): AsyncIterable<Message> {
  for await (const m of messages) {
    checkMessage(desc, m);
    yield m;
  }
}

export function requestGuardInterceptor(): Interceptor {
  return (next) => (req) => {
    if (!req.stream) {
      try {
        checkMessage(req.method.input, req.message);
      } catch (err) {
        return Promise.reject(err);
      }
      return next(req);
    }
    return next({ ...req, message: checked(req.method.input, req.message) });
  };
}

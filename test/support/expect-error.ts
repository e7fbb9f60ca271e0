// Asserts that a call fails with a gRPC code and message (both Connect and grpc-js errors).

import type { Code } from "@connectrpc/connect";
import { ConnectError } from "@connectrpc/connect";
import { expect } from "vitest";

export async function expectCode(
  promise: Promise<unknown>,
  code: Code,
  message?: string | RegExp,
): Promise<ConnectError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected the call to fail").toBeInstanceOf(ConnectError);
  const err = caught as ConnectError;
  expect({ code: err.code, message: err.rawMessage }).toMatchObject({ code });
  if (typeof message === "string") expect(err.rawMessage).toBe(message);
  else if (message !== undefined) expect(err.rawMessage).toMatch(message);
  return err;
}

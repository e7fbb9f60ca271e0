// The address a call came from, in the call's context values (set by the rpc adapter, the direct gRPC path and the
// REST gateway): the rate limit's key when the call has no principal.
import { type ContextValues, createContextKey, createContextValues } from "@connectrpc/connect";

export const PEER = createContextKey<string>("", { description: "peer address" });

/** Context values holding the peer address of `socket` (none when it is unknown). */
export function peerValues(
  socket: { readonly remoteAddress?: string | undefined } | null | undefined,
): ContextValues {
  const values = createContextValues();
  const address = socket?.remoteAddress;
  if (address !== undefined) values.set(PEER, address);
  return values;
}

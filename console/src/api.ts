// The console's one Connect transport to the server it is served from, the service clients over it, the stored
// bearer token and what an rpc failure means in plain words.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { useSyncExternalStore } from "react";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { SignalService } from "../../gen/flyteidl/service/signal_pb.js";
import { WatchService } from "../../gen/petrel/v1/watch_pb.js";

const TOKEN_KEY = "petrel.token";

export interface AuthState {
  /** Whether a token is stored (the header shows Sign out). */
  readonly signedIn: boolean;
  /** Set when a call was refused as unauthenticated: the sign-in box is shown. */
  readonly needsSignIn: boolean;
  /** Bumped on every sign-in and sign-out, so pages load again with the new credentials. */
  readonly epoch: number;
}

function readToken(): string | null {
  try {
    return window.localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

let auth: AuthState = { signedIn: readToken() !== null, needsSignIn: false, epoch: 0 };
const authListeners = new Set<() => void>();

function setAuth(next: Partial<AuthState>): void {
  auth = { ...auth, ...next };
  for (const l of authListeners) l();
}

export function useAuth(): AuthState {
  return useSyncExternalStore(
    (l) => {
      authListeners.add(l);
      return () => authListeners.delete(l);
    },
    () => auth,
  );
}

export function signIn(token: string): void {
  window.localStorage.setItem(TOKEN_KEY, token.trim());
  setAuth({ signedIn: true, needsSignIn: false, epoch: auth.epoch + 1 });
}

export function signOut(): void {
  window.localStorage.removeItem(TOKEN_KEY);
  setAuth({ signedIn: false, needsSignIn: false, epoch: auth.epoch + 1 });
}

function noteFailure(e: unknown): void {
  if (e instanceof ConnectError && e.code === Code.Unauthenticated && !auth.needsSignIn) {
    setAuth({ needsSignIn: true });
  }
}

async function* watchStream<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (e) {
    noteFailure(e);
    throw e;
  }
}

/** The stored token as request headers, for plain HTTP reads (task logs) that need the same credentials as rpcs. */
export function authHeaders(): Record<string, string> {
  const token = readToken();
  return token !== null && token !== "" ? { authorization: `Bearer ${token}` } : {};
}

/** Sends the stored token, and opens the sign-in box when the server asks for one. */
const authInterceptor: Interceptor = (next) => async (req) => {
  const token = readToken();
  if (token !== null && token !== "") req.header.set("authorization", `Bearer ${token}`);
  try {
    const res = await next(req);
    return res.stream ? { ...res, message: watchStream(res.message) } : res;
  } catch (e) {
    noteFailure(e);
    throw e;
  }
};

const transport = createConnectTransport({
  baseUrl: window.location.origin,
  useBinaryFormat: true,
  interceptors: [authInterceptor],
});

export const admin = createClient(AdminService, transport);
export const signals = createClient(SignalService, transport);
export const dataProxy = createClient(DataProxyService, transport);
export const watch = createClient(WatchService, transport);

/** Whether an error is the cancellation of a call this page aborted itself (not worth showing). */
export function isAbort(e: unknown): boolean {
  return (
    (e instanceof ConnectError && e.code === Code.Canceled) || (e instanceof Error && e.name === "AbortError")
  );
}

/**
 * A failure in plain words. `action` completes "You don't have permission to …" (e.g. "terminate executions in
 * flytesnacks/development").
 */
export function describeError(e: unknown, action = "do this"): string {
  if (!(e instanceof ConnectError)) return e instanceof Error ? e.message : String(e);
  const detail = e.rawMessage;
  // fetch() itself failed: no answer from the server at all.
  if (e.cause instanceof TypeError) return `The server is unreachable right now (${detail}); try again`;
  switch (e.code) {
    case Code.Unauthenticated:
      return readToken() === null
        ? "Sign in: this server needs a token"
        : `Sign in: the server did not accept the stored token (${detail})`;
    case Code.PermissionDenied:
      return `You don't have permission to ${action} (${detail})`;
    case Code.NotFound:
      return `Not found: ${detail}`;
    case Code.AlreadyExists:
      return `Already exists: ${detail}`;
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.OutOfRange:
      return detail;
    case Code.Unavailable:
      return `The server is unreachable right now (${detail}); try again`;
    case Code.DeadlineExceeded:
      return "The server took too long to answer; try again";
    case Code.ResourceExhausted:
      return `The server refused: too many requests or too much data (${detail})`;
    case Code.Unimplemented:
      return `This server does not offer that (${detail})`;
    case Code.Canceled:
      return "Cancelled";
    default:
      return `The server failed: ${detail}`;
  }
}

// The console's URLs, in flyteconsole's scheme: the server builds them for notifications (under --public-url), the
// client and CLI for the executions they start (under the endpoint they talk to, as flytekit does).

export interface ExecutionRef {
  readonly project: string;
  readonly domain: string;
  readonly name: string;
}

const enc = encodeURIComponent;

/** `{base}/console/projects/{p}/domains/{d}/executions/{name}`; `base` is an origin, with or without a path. */
export function executionConsoleUrl(base: string, id: ExecutionRef): string {
  return `${base.replace(/\/+$/, "")}/console/projects/${enc(id.project)}/domains/${enc(id.domain)}/executions/${enc(
    id.name,
  )}`;
}

/**
 * Where the console of a gRPC endpoint is: the endpoint itself, which answers HTTP/1.1 too (flytekit's
 * `generate_console_http_domain`: http:// when insecure, https:// otherwise, for a plain host:port).
 */
export function consoleBaseOf(endpoint: string, insecure: boolean): string {
  if (/^https?:\/\//.test(endpoint)) return new URL(endpoint).origin;
  return `${insecure ? "http" : "https"}://${endpoint.replace(/\/+$/, "")}`;
}

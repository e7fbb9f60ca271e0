// The head of an HTTP/1.x response (status line and headers, without the blank line), as far as a GET of one blob
// needs it: the status and how the body is framed (Content-Length, chunked, or the connection's end).

/** The status, and the body's framing: its length, or chunked; neither: the body ends with the connection. */
export interface Head {
  readonly status: number;
  readonly length: number | undefined;
  readonly chunked: boolean;
}

/** Parses a response head; throws when its status line is not HTTP/1.x or its Content-Length is bad. */
export function parseHead(text: string): Head {
  const lines = text.split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? "")?.[1];
  if (status === undefined)
    throw new Error(`not an HTTP/1.1 response: ${JSON.stringify(lines[0]?.slice(0, 80))}`);
  let length: number | undefined;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue; // not a header line
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") {
      if (!/^\d{1,15}$/.test(value) || (length !== undefined && length !== Number(value)))
        throw new Error(`bad Content-Length: ${JSON.stringify(value.slice(0, 40))}`);
      length = Number(value);
    } else if (name === "transfer-encoding") {
      chunked = value.toLowerCase().split(",").at(-1)?.trim() === "chunked";
    }
  }
  return { status: Number(status), length: chunked ? undefined : length, chunked };
}

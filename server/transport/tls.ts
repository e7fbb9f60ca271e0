// TLS for both listeners: the certificate chain and key are read from files at start and again on reload (SIGHUP),
// so a renewed certificate is served to new connections without a restart.
import fs from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import tls from "node:tls";

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

/** Reads and checks the pair (a key that does not match the certificate throws here, not at the first handshake). */
export function readTlsFiles(files: TlsFiles): { cert: Buffer; key: Buffer } {
  const material = { cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key) };
  tls.createSecureContext(material);
  return material;
}

type H2Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
type H1Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * The gRPC listener's HTTP/2 server: h2c (protocol-sniff.ts hands it the connections that open with the HTTP/2
 * preface), or HTTP/2 over TLS, where a client that negotiates HTTP/1.1 with ALPN (a browser following a console
 * link) is answered by `http1`.
 */
export function createH2Server(files: TlsFiles | undefined, handler: H2Handler, http1: H1Handler) {
  if (files === undefined) return http2.createServer({}, handler);
  return http2.createSecureServer({ ...readTlsFiles(files), allowHTTP1: true }, (req, res) => {
    // With allowHTTP1, an HTTP/1.1 request arrives as Node's http request and response.
    if (req.httpVersionMajor === 1)
      http1(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
    else handler(req, res);
  });
}

/** The HTTP listener (Connect, gRPC-Web, signed blob URLs, health): HTTP/1.1, over TLS when configured. */
export function createH1Server(files: TlsFiles | undefined, handler: H1Handler): http.Server {
  return files === undefined ? http.createServer(handler) : https.createServer(readTlsFiles(files), handler);
}

/** Serves the files' current contents to new connections; throws (keeping the old pair) when they are unusable. */
export function reloadTls(files: TlsFiles | undefined, servers: readonly object[]): boolean {
  if (files === undefined) return false;
  const material = readTlsFiles(files);
  for (const s of servers) if (s instanceof tls.Server) s.setSecureContext(material);
  return true;
}

// The plaintext gRPC port also answers HTTP/1.1: flytekit prints console links on its admin endpoint
// (`http://{endpoint}/console/…`), and a browser opening one speaks HTTP/1.1. A connection that opens with the HTTP/2
// preface goes to the HTTP/2 server; anything else to the HTTP/1.1 server, which answers it as on the HTTP port
// (garbage gets its 400 and is closed). Over TLS the choice is ALPN's (tls.ts).
import type http from "node:http";
import type http2 from "node:http2";
import net from "node:net";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * A listener that hands each connection, after its first bytes, to `h2` or `h1`. A connection that sends nothing
 * for `idleMs` is closed, and so is one still silent when the listener closes. The bytes read are put back before
 * the server gets the socket: HTTP/2 reads them from the socket's buffer before taking over its handle, HTTP/1.1
 * once the socket flows again.
 */
export class SniffingListener extends net.Server {
  private readonly silent = new Set<net.Socket>();

  constructor(h2: http2.Http2Server, h1: http.Server, idleMs: number) {
    super((socket) => {
      this.silent.add(socket);
      let seen = Buffer.alloc(0);
      const idle = () => socket.destroy();
      const ignore = () => {};
      const onReadable = () => {
        for (let chunk = socket.read(); chunk !== null; chunk = socket.read()) {
          seen = Buffer.concat([seen, chunk as Buffer]);
        }
        const n = Math.min(seen.length, PREFACE.length);
        const http2Preface = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
        if (n === 0 || (http2Preface && n < PREFACE.length)) return; // not enough to tell yet
        this.silent.delete(socket);
        socket.off("readable", onReadable);
        socket.off("timeout", idle);
        socket.off("error", ignore);
        socket.setTimeout(0);
        socket.unshift(seen);
        if (http2Preface) {
          h2.emit("connection", socket);
        } else {
          h1.emit("connection", socket);
          socket.resume();
        }
      };
      // A client that resets before its first bytes is no error of ours.
      socket.on("error", ignore);
      socket.once("close", () => this.silent.delete(socket));
      socket.setTimeout(idleMs);
      socket.once("timeout", idle);
      socket.on("readable", onReadable);
    });
  }

  override close(callback?: (err?: Error) => void): this {
    super.close(callback);
    for (const socket of this.silent) socket.destroy();
    return this;
  }
}

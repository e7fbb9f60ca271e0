// A bare grpc-js server (run as its own process by grpc-echo.ts): each unary method decodes its request and answers
// with one fixed message, encoded per call, both with @flyteorg/flyteidl's pb-js codecs. Reads its methods as JSON
// on stdin and prints its port on stdout.
import * as grpc from "@grpc/grpc-js";
import { flyteidl } from "../../support/flyteidl-client.js";
import type { EchoMethod } from "./grpc-echo.js";

interface Codec {
  encode(message: object): { finish(): Uint8Array };
  decode(data: Uint8Array): object;
}

/** The pb-js class for a name such as `admin.Execution`. */
function codec(name: string): Codec {
  let node: unknown = flyteidl;
  for (const part of name.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
  if (typeof (node as Partial<Codec> | undefined)?.decode !== "function") throw new Error(`no codec ${name}`);
  return node as Codec;
}

let input = "";
for await (const chunk of process.stdin) input += String(chunk);
const server = new grpc.Server();
for (const m of JSON.parse(input) as EchoMethod[]) {
  const request = codec(m.requestType);
  const response = codec(m.responseType);
  const message = response.decode(Buffer.from(m.response, "base64"));
  server.register<object, object>(
    m.path,
    (_call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) =>
      callback(null, message),
    (msg: object) => Buffer.from(response.encode(msg).finish()),
    (bytes: Buffer) => request.decode(bytes),
    "unary",
  );
}
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err !== null) throw err;
  process.stdout.write(`${port}\n`);
});

// A real @grpc/grpc-js client for any protobuf-es service: the same stack Python/Go Flyte stubs use on the wire.
import {
  create,
  type DescMessage,
  type DescService,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

type UnaryMethods<S extends DescService> = {
  [K in keyof S["method"] as S["method"][K] extends { methodKind: "unary" } ? K : never]: S["method"][K];
};

export interface GrpcJsClient<S extends DescService> {
  unary<K extends keyof UnaryMethods<S> & string>(
    method: K,
    request: MessageInitShape<S["method"][K]["input"]>,
    metadata?: Record<string, string>,
  ): Promise<MessageShape<S["method"][K]["output"]>>;
  serverStream<K extends keyof S["method"] & string>(
    method: K,
    request: MessageInitShape<S["method"][K]["input"]>,
  ): AsyncIterable<MessageShape<S["method"][K]["output"]>>;
  close(): void;
}

export function createGrpcJsClient<S extends DescService>(
  service: S,
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): GrpcJsClient<S> {
  const client = new grpc.Client(address, credentials);
  const path = (name: string) => {
    const m = service.methods.find((x) => x.localName === name);
    if (m === undefined) throw new Error(`no method ${name} on ${service.typeName}`);
    return { m, path: `/${service.typeName}/${m.name}` };
  };
  const ser = (desc: DescMessage) => (msg: MessageShape<DescMessage>) => Buffer.from(toBinary(desc, msg));
  const de = (desc: DescMessage) => (buf: Buffer) => fromBinary(desc, buf);
  return {
    unary(method, request, metadata = {}) {
      const { m, path: p } = path(method);
      const md = new grpc.Metadata();
      for (const [k, v] of Object.entries(metadata)) md.set(k, v);
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(p, ser(m.input), de(m.output), create(m.input, request), md, (err, res) => {
          if (err !== null) reject(err);
          else resolve(res as never);
        });
      });
    },
    serverStream(method, request) {
      const { m, path: p } = path(method);
      return client.makeServerStreamRequest(p, ser(m.input), de(m.output), create(m.input, request)) as never;
    },
    close: () => client.close(),
  };
}

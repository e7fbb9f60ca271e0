// gRPC server reflection (grpc.reflection.v1 and v1alpha), so grpcurl, Postman and Evans discover every service the
// router serves. Answers come from the descriptors protobuf-es embeds in the generated code: a file is sent with
// its imports (each file once per stream, as grpc-go does).
import {
  create,
  type DescFile,
  type DescMessage,
  type DescService,
  fromBinary,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

type Request = v1.ServerReflectionRequest;
type Response = v1.ServerReflectionResponse;

/** Every served file and its imports, by file name and by the fully-qualified names of what it declares. */
export class DescriptorIndex {
  readonly services: readonly string[];
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  /** Extensions by extended message name: number → file. */
  private readonly extensions = new Map<string, Map<number, DescFile>>();

  constructor(services: readonly DescService[]) {
    this.services = [...new Set(services.map((s) => s.typeName))].sort();
    for (const s of services) this.addFile(s.file);
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const dep of file.dependencies) this.addFile(dep);
    for (const s of file.services) {
      this.symbols.set(s.typeName, file);
      for (const m of s.methods) this.symbols.set(`${s.typeName}.${m.name}`, file);
    }
    for (const e of file.enums) this.symbols.set(e.typeName, file);
    for (const m of file.messages) this.addMessage(file, m);
    for (const x of file.extensions) this.addExtension(file, x.typeName, x.extendee.typeName, x.number);
  }

  private addMessage(file: DescFile, m: DescMessage): void {
    this.symbols.set(m.typeName, file);
    for (const f of m.fields) this.symbols.set(`${m.typeName}.${f.name}`, file);
    for (const e of m.nestedEnums) this.symbols.set(e.typeName, file);
    for (const n of m.nestedMessages) this.addMessage(file, n);
    for (const x of m.nestedExtensions) this.addExtension(file, x.typeName, x.extendee.typeName, x.number);
  }

  private addExtension(file: DescFile, name: string, extendee: string, no: number): void {
    this.symbols.set(name, file);
    const byNumber = this.extensions.get(extendee) ?? new Map<number, DescFile>();
    byNumber.set(no, file);
    this.extensions.set(extendee, byNumber);
  }

  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  fileBySymbol(symbol: string): DescFile | undefined {
    return this.symbols.get(symbol.replace(/^\./, ""));
  }

  fileByExtension(extendee: string, no: number): DescFile | undefined {
    return this.extensions.get(extendee)?.get(no);
  }

  /** The extension numbers of a message, or undefined when it is unknown. */
  extensionNumbers(message: string): number[] | undefined {
    if (!this.symbols.has(message)) return undefined;
    return [...(this.extensions.get(message)?.keys() ?? [])].sort((a, b) => a - b);
  }
}

/** The file and its imports not yet sent on this stream, serialized (the file itself first). */
function fileWithImports(file: DescFile, sent: Set<string>): Uint8Array[] {
  const out: Uint8Array[] = [];
  const visit = (f: DescFile) => {
    if (sent.has(f.proto.name)) return;
    sent.add(f.proto.name);
    out.push(toBinary(FileDescriptorProtoSchema, f.proto));
    for (const d of f.dependencies) visit(d);
  };
  visit(file);
  // The one asked for is always sent, even if it went earlier on the stream.
  if (out.length === 0) out.push(toBinary(FileDescriptorProtoSchema, file.proto));
  return out;
}

const notFound = (what: string): Response["messageResponse"] => ({
  case: "errorResponse",
  value: create(v1.ErrorResponseSchema, { errorCode: Code.NotFound, errorMessage: `${what} not found` }),
});

/** One reflection answer (v1 messages; v1alpha has the same fields and numbers). */
export function answerReflection(index: DescriptorIndex, req: Request, sent: Set<string>): Response {
  const files = (file: DescFile | undefined, what: string): Response["messageResponse"] =>
    file === undefined
      ? notFound(what)
      : {
          case: "fileDescriptorResponse",
          value: create(v1.FileDescriptorResponseSchema, {
            fileDescriptorProto: fileWithImports(file, sent),
          }),
        };
  const r = req.messageRequest;
  let messageResponse: Response["messageResponse"];
  switch (r.case) {
    case "listServices":
      messageResponse = {
        case: "listServicesResponse",
        value: create(v1.ListServiceResponseSchema, { service: index.services.map((name) => ({ name })) }),
      };
      break;
    case "fileByFilename":
      messageResponse = files(index.fileByName(r.value), `file ${r.value}`);
      break;
    case "fileContainingSymbol":
      messageResponse = files(index.fileBySymbol(r.value), `symbol ${r.value}`);
      break;
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = r.value;
      messageResponse = files(
        index.fileByExtension(containingType, extensionNumber),
        `extension ${extensionNumber} of ${containingType}`,
      );
      break;
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(r.value);
      messageResponse =
        numbers === undefined
          ? notFound(`type ${r.value}`)
          : {
              case: "allExtensionNumbersResponse",
              value: create(v1.ExtensionNumberResponseSchema, {
                baseTypeName: r.value,
                extensionNumber: numbers,
              }),
            };
      break;
    }
    case undefined:
      messageResponse = {
        case: "errorResponse",
        value: create(v1.ErrorResponseSchema, {
          errorCode: Code.InvalidArgument,
          errorMessage: "no message_request set",
        }),
      };
      break;
  }
  return create(v1.ServerReflectionResponseSchema, {
    validHost: req.host,
    originalRequest: req,
    messageResponse,
  });
}

/**
 * Registers both reflection services. What they list is read from the router when a stream opens, so services
 * registered after this call are listed too.
 */
export function registerReflection(router: ConnectRouter): void {
  const index = (): DescriptorIndex =>
    new DescriptorIndex([
      ...router.handlers.map((h) => h.service),
      v1.ServerReflection,
      v1alpha.ServerReflection,
    ]);
  router.service(v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      const idx = index();
      const sent = new Set<string>();
      for await (const req of requests) yield answerReflection(idx, req, sent);
    },
  });
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      const idx = index();
      const sent = new Set<string>();
      for await (const req of requests) {
        // Same fields and numbers: the v1alpha messages convert through the wire format.
        const asV1 = fromAlpha(req);
        const res = answerReflection(idx, asV1, sent);
        yield toAlpha(res);
      }
    },
  });
}

function fromAlpha(req: v1alpha.ServerReflectionRequest): Request {
  return fromBinary(v1.ServerReflectionRequestSchema, toBinary(v1alpha.ServerReflectionRequestSchema, req));
}

function toAlpha(res: Response): v1alpha.ServerReflectionResponse {
  return fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(v1.ServerReflectionResponseSchema, res));
}

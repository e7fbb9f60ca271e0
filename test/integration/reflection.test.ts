// gRPC server reflection (v1 and v1alpha) as grpcurl uses it, driven by a plain grpc-js client.
import path from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { type FileDescriptorProto, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.stop();
});

interface ReflectionAnswer {
  list_services_response?: { service: Array<{ name: string }> };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** Sends the requests on one stream and collects the answers, in order. */
async function reflect(version: "v1" | "v1alpha", requests: object[]): Promise<ReflectionAnswer[]> {
  const def = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, {
    includeDirs: [path.resolve("proto")],
    keepCase: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: Record<string, { ServerReflection: grpc.ServiceClientConstructor }> };
  };
  const Client = pkg.grpc.reflection[version]?.ServerReflection;
  if (Client === undefined) throw new Error("no reflection client");
  const client = new Client(t.grpcAddress, grpc.credentials.createInsecure());
  try {
    const call = (
      client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, ReflectionAnswer> }
    ).ServerReflectionInfo();
    const answers: ReflectionAnswer[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on("data", (a: ReflectionAnswer) => answers.push(a));
      call.on("end", resolve);
      call.on("error", reject);
    });
    for (const r of requests) call.write(r);
    call.end();
    await ended;
    return answers;
  } finally {
    client.close();
  }
}

const files = (a: ReflectionAnswer | undefined): FileDescriptorProto[] =>
  (a?.file_descriptor_response?.file_descriptor_proto ?? []).map((b) =>
    fromBinary(FileDescriptorProtoSchema, new Uint8Array(b)),
  );

describe("server reflection", () => {
  for (const version of ["v1", "v1alpha"] as const) {
    it(`${version}: lists every service and describes a method with its imports`, async () => {
      const [list, bySymbol, byMethod, byFile, missing] = await reflect(version, [
        { list_services: "" },
        { file_containing_symbol: "flyteidl.service.AdminService" },
        { file_containing_symbol: "flyteidl.service.SignalService.SetSignal" },
        { file_by_filename: "flyteidl/admin/task.proto" },
        { file_containing_symbol: "no.such.Thing" },
      ]);
      const names = list?.list_services_response?.service.map((s) => s.name);
      expect(names).toEqual(
        expect.arrayContaining([
          "flyteidl.service.AdminService",
          "flyteidl.service.SignalService",
          "flyteidl.service.DataProxyService",
          "petrel.v1.WatchService",
          "petrel.v1.WorkerService",
          "grpc.health.v1.Health",
          "grpc.reflection.v1.ServerReflection",
          "grpc.reflection.v1alpha.ServerReflection",
        ]),
      );
      const admin = files(bySymbol);
      expect(admin[0]?.name).toBe("flyteidl/service/admin.proto");
      const getTask = admin[0]?.service[0]?.method.find((m) => m.name === "GetTask");
      expect(getTask?.inputType).toBe(".flyteidl.admin.ObjectGetRequest");
      expect(getTask?.outputType).toBe(".flyteidl.admin.Task");
      // Its imports come along (each once per stream), so a client can resolve every type.
      const sent = admin.map((f) => f.name);
      expect(sent).toContain("flyteidl/admin/task.proto");
      expect(sent).toContain("google/protobuf/timestamp.proto");
      expect(files(byMethod)[0]?.name).toBe("flyteidl/service/signal.proto");
      expect(files(byFile)[0]?.name).toBe("flyteidl/admin/task.proto");
      expect(missing?.error_response?.error_code).toBe(grpc.status.NOT_FOUND);
    });
  }
});

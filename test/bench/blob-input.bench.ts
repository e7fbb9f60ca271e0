// What a Blob input costs a 1-node execution: the same raw-container task (data_config, one process) run with a 1 KiB
// file input (downloaded from the blob store into its input directory) and with an integer input, CreateExecution
// until GetExecution reports SUCCEEDED, in alternating rounds on the product's settings (durable Postgres, the local
// store). Run: npm run bench:blob-input
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { DataLoadingConfigSchema } from "../../gen/flyteidl/core/tasks_pb.js";
import { BlobType_BlobDimensionality, LiteralTypeSchema } from "../../gen/flyteidl/core/types_pb.js";
import { DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { intType, literalInt, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { ms, startBenchServerProcess, writeSection } from "./bench-support.js";

const ROUNDS = 5;
const PER_ROUND = 20;
const P = { project: "bench", domain: "development" };
const dataConfig = { enabled: true, inputPath: "/var/inputs", outputPath: "/var/outputs" };
const blobType = create(LiteralTypeSchema, {
  type: { case: "blob", value: { format: "", dimensionality: BlobType_BlobDimensionality.SINGLE } },
});
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const bench = await startBenchServerProcess({}, { durable: true });
try {
  const { admin, server } = bench;
  const proxy = createClient(
    DataProxyService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.grpcPort}` }),
  );
  await admin.registerProject({ project: { id: "bench", name: "bench" } });
  for (const [name, type] of [
    ["with-file", blobType],
    ["with-int", intType()],
  ] as const) {
    await admin.createTask({
      id: taskId(name, "v1", "bench"),
      spec: {
        template: taskTemplate({
          inputs: { x: type },
          outputs: { n: intType() },
          command: ["sh", "-c", "wc -c < /var/inputs/x | tr -d ' ' > /var/outputs/n"],
          edit: (t) => {
            if (t.target.case === "container")
              t.target.value.dataConfig = create(DataLoadingConfigSchema, dataConfig);
          },
        }),
      },
    });
  }
  const bytes = Buffer.alloc(1024, 7);
  const md5 = createHash("md5").update(bytes).digest();
  const loc = await proxy.createUploadLocation({ ...P, filename: "input.bin", contentMd5: md5 });
  await fetch(loc.signedUrl, {
    method: "PUT",
    body: bytes,
    headers: { "Content-MD5": md5.toString("base64"), ...loc.headers },
  });
  const file = create(LiteralSchema, {
    value: {
      case: "scalar",
      value: {
        value: { case: "blob", value: { uri: loc.nativeUrl, metadata: { type: { dimensionality: 0 } } } },
      },
    },
  });

  let n = 0;
  async function once(task: "with-file" | "with-int"): Promise<number> {
    const name = `e${n++}`;
    const start = performance.now();
    await admin.createExecution({
      ...P,
      name,
      spec: { launchPlan: taskId(task, "v1", "bench") },
      inputs: { literals: { x: task === "with-file" ? file : literalInt(1024) } },
    });
    for (;;) {
      const e = await admin.getExecution({ id: { ...P, name } });
      if (e.closure?.phase === W.SUCCEEDED) return performance.now() - start;
      if (e.closure?.phase === W.FAILED) throw new Error(`${name} failed`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  await once("with-file");
  await once("with-int");
  const rounds: { file: number; int: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const files: number[] = [];
    const ints: number[] = [];
    for (let i = 0; i < PER_ROUND; i++) {
      files.push(await once("with-file"));
      ints.push(await once("with-int"));
    }
    rounds.push({ file: median(files), int: median(ints) });
    console.log(`round ${r + 1}: file input ${ms(median(files))}, integer input ${ms(median(ints))}`);
  }
  const files = rounds.map((r) => r.file);
  const ints = rounds.map((r) => r.int);
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} ms`;
  const body = `Script: \`test/bench/blob-input.bench.ts\` (\`npm run bench:blob-input\`). \`petrel serve\` in its own process,
durable Postgres, the local blob store. One raw-container task (\`data_config\`, one \`sh\` process) run with a 1 KiB
file input (uploaded once through CreateUploadLocation, downloaded into the task's input directory each run) and with
an integer input; CreateExecution until GetExecution reports SUCCEEDED (polled every 2 ms). ${ROUNDS} rounds of ${PER_ROUND}
runs each, the two kinds alternating; medians of the rounds' medians (range in parentheses).

| input | p50 | ratio |
|---|---|---|
| integer (baseline) | ${ms(median(ints))} (${range(ints)}) | 1.00× |
| 1 KiB file | ${ms(median(files))} (${range(files)}) | ${(median(files) / median(ints)).toFixed(2)}× |

- The file adds ${ms(median(files) - median(ints))} per execution (the store read and the write into the input directory).`;
  writeSection("Blob input overhead on a 1-node execution", body);
  console.log(body);
} finally {
  await bench.stop();
}

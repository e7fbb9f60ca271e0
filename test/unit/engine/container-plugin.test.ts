import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { LiteralMapSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { ContainerSchema } from "../../../gen/flyteidl/core/tasks_pb.js";
import { dockerArgv, renderArgs, taskPaths } from "../../../server/engine/plugins/container-plugin.js";
import { literalInt, literalString } from "../../fixtures/flyte-builders.js";

const dirs = { input: "/tmp/a/in", output: "/tmp/a/out", raw: "/tmp/a/raw" };
const inputs = create(LiteralMapSchema, { literals: { n: literalInt(3), who: literalString("x y") } });

describe("container contract", () => {
  it("substitutes Flyte's template variables", () => {
    const c = create(ContainerSchema, { image: "alpine" });
    expect(
      renderArgs(
        [
          "{{.inputs.n}}",
          "{{ .inputs.who }}",
          "{{.input}}",
          "{{.inputPrefix}}",
          "{{.outputPrefix}}",
          "{{.rawOutputDataPrefix}}",
        ],
        c,
        inputs,
        dirs,
      ),
    ).toEqual(["3", "x y", "/tmp/a/in/inputs.pb", "/tmp/a/in", "/tmp/a/out", "/tmp/a/raw"]);
  });

  it("maps data_config paths onto the attempt's directories when run as a process", () => {
    const c = create(ContainerSchema, {
      image: "alpine",
      dataConfig: { enabled: true, inputPath: "/var/inputs", outputPath: "/var/outputs" },
    });
    expect(renderArgs(["cat /var/inputs/n > /var/outputs/o"], c, inputs, dirs)).toEqual([
      "cat /tmp/a/in/n > /tmp/a/out/o",
    ]);
  });

  it("runs the image with Docker, mounting the attempt's directories where the task expects them", () => {
    const c = create(ContainerSchema, {
      image: "ghcr.io/acme/task:1",
      command: ["python", "main.py"],
      args: ["{{.outputPrefix}}"],
      dataConfig: { enabled: true, inputPath: "/var/inputs", outputPath: "/var/outputs" },
    });
    const paths = taskPaths(c, dirs, "docker");
    const argv = dockerArgv(
      c,
      renderArgs([...c.command, ...c.args], c, inputs, paths, false),
      dirs,
      paths,
      { A: "1" },
      "petrel-x",
    );
    expect(argv).toEqual([
      "docker",
      "run",
      "--rm",
      "--name",
      "petrel-x",
      "-v",
      "/tmp/a/in:/var/inputs",
      "-v",
      "/tmp/a/out:/var/outputs",
      "-v",
      "/tmp/a/raw:/var/flyte/raw",
      "-e",
      "A=1",
      "--entrypoint",
      "python",
      "ghcr.io/acme/task:1",
      "main.py",
      "/var/outputs",
    ]);
  });
});

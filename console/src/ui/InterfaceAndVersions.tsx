// The end of a task's or workflow's page: the interface of the version shown (once it has loaded) and its versions.
import type { TypedInterface } from "../../../gen/flyteidl/core/interface_pb.js";
import { VariablesView } from "./InterfaceView";
import { VersionList } from "./VersionList";

interface Props {
  kind: "tasks" | "workflows";
  project: string;
  domain: string;
  name: string;
  /** The version shown and its interface; undefined until it has loaded. */
  shown: { version: string | undefined; iface: TypedInterface | undefined } | undefined;
}

export function InterfaceAndVersions({ kind, project, domain, name, shown }: Props) {
  return (
    <>
      {shown !== undefined && (
        <>
          <h2>Inputs</h2>
          <VariablesView vars={shown.iface?.inputs} />
          <h2>Outputs</h2>
          <VariablesView vars={shown.iface?.outputs} />
        </>
      )}
      <VersionList kind={kind} project={project} domain={domain} name={name} selected={shown?.version} />
    </>
  );
}

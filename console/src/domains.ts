// The server's domains (the same for every project), asked for once and shared by the pages that need them.
import type { Domain } from "../../gen/flyteidl/admin/project_pb.js";
import { admin } from "./api";

let domains: Promise<Domain[]> | undefined;

/** The configured domains; a failed call is asked again next time. */
export function loadDomains(): Promise<Domain[]> {
  domains ??= admin.getDomains({}).then(
    (res) => res.domains,
    (e: unknown) => {
      domains = undefined;
      throw e;
    },
  );
  return domains;
}

/** The domain a project opens on: `development` when the server has it, else its first domain. */
export function defaultDomain(list: readonly Domain[]): string | undefined {
  return list.find((d) => d.id === "development")?.id ?? list[0]?.id;
}

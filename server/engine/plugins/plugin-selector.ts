// Which plugin runs a task: `echo` by type, container tasks by target (as processes or in Docker).
import { type ContainerRuntime, createContainerPlugin, type DockerTarget } from "./container-plugin.js";
import { echoPlugin } from "./echo-plugin.js";
import type { TaskPlugin } from "./plugin.js";

/** Chooses the plugin for a task template: `echo` by type, container tasks by target. */
export function pluginSelector(runtime: ContainerRuntime, docker?: DockerTarget) {
  const container = createContainerPlugin(runtime, docker);
  return (template: { type: string; target: { case: string | undefined } }): TaskPlugin | undefined => {
    if (template.type === "echo") return echoPlugin;
    if (template.target.case === "container") return container;
    return undefined;
  };
}

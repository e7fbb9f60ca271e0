// What `petrel` accepts: every command with its words, flags and one-line help. Parsing, strict checking, help
// and shell completion all read this table, so they cannot drift apart.

export interface FlagSpec {
  readonly name: string;
  /** The value's placeholder; absent for a boolean flag. */
  readonly value?: string;
  readonly help: string;
  /** The only values the flag takes. */
  readonly choices?: readonly string[];
  /** How the value is checked: a positive integer, or a duration such as 30s, 5m, 1h. */
  readonly kind?: "count" | "duration";
}

export interface CommandSpec {
  readonly name: string;
  /** Synopsis lines after `petrel <name>`. */
  readonly usage: readonly string[];
  readonly summary: string;
  /** Second words (get projects, signal approve…), offered by completion. */
  readonly subcommands?: readonly string[];
  readonly flags: readonly FlagSpec[];
}

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: "--endpoint", value: "HOST:PORT", help: "the server's gRPC address (default localhost:8089)" },
  { name: "--project", value: "P", help: "the project (default flytesnacks)" },
  { name: "--domain", value: "D", help: "the domain (default development)" },
  { name: "--profile", value: "NAME", help: "a profile saved with `petrel config save`" },
  { name: "--token", value: "TOKEN", help: "a bearer token sent with every call" },
  { name: "--ca-file", value: "FILE", help: "PEM CA certificate to trust for TLS (implies TLS)" },
  { name: "--insecure", help: "plaintext connection (default unless the endpoint is https://)" },
  { name: "--help", help: "show help" },
];

const output = (choices: readonly string[]): FlagSpec => ({
  name: "--output",
  value: choices.join("|"),
  help: `output format (-o): ${choices.join(", ")}`,
  choices,
});
const version = (what: string): FlagSpec => ({ name: "--version", value: "V", help: `the ${what} version` });
const LIST_FLAGS: readonly FlagSpec[] = [
  output(["table", "json", "yaml"]),
  { name: "--filter", value: "F", help: "Flyte filters, e.g. eq(phase,FAILED)" },
  { name: "--limit", value: "N", help: "at most N items (default 100)", kind: "count" },
  { name: "--all", help: "every item, following page tokens" },
];
const LISTINGS = [
  "projects",
  "tasks",
  "workflows",
  "launch-plans",
  "executions",
  "node-executions",
  "signals",
];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "serve",
    usage: ["[flags]"],
    summary: "start the server",
    flags: [],
  },
  {
    name: "create",
    usage: ["project ID [--name N] [--description D]"],
    summary: "register a project",
    subcommands: ["project"],
    flags: [
      { name: "--name", value: "N", help: "the project's display name" },
      { name: "--description", value: "D", help: "the project's description" },
    ],
  },
  {
    name: "get",
    usage: [
      "projects|tasks|workflows|launch-plans|executions [NAME] [-o table|json|yaml] [--filter F] [--limit N] [--all]",
      "node-executions|signals EXECUTION [-o table|json|yaml]",
      "notifications [--state dead,undeliverable,pending,delivered] [--limit N] [--http-url URL] [-o table|json]",
    ],
    summary: "list entities as a table, JSON or YAML; notifications: the server's undelivered messages",
    subcommands: [...LISTINGS, "notifications"],
    flags: [
      ...LIST_FLAGS,
      {
        name: "--state",
        value: "S,…",
        help: "notifications: the states listed (default dead,undeliverable)",
      },
      {
        name: "--http-url",
        value: "URL",
        help: "notifications: the server's HTTP port (default <endpoint host>:8088)",
      },
    ],
  },
  {
    name: "run",
    usage: ["launch-plan|workflow|task NAME [--version V] [--input k=v|k=@PATH ...] [--wait]"],
    summary: "start an execution (with --wait: follow it and print its outputs)",
    subcommands: ["launch-plan", "workflow", "task"],
    flags: [
      version("entity's"),
      { name: "--input", value: "k=v", help: "an input: JSON or text; k=@PATH uploads a file or directory" },
      { name: "--wait", help: "follow the execution until it finishes, then print its outputs" },
    ],
  },
  {
    name: "download",
    usage: ["EXECUTION [DIR]"],
    summary: "write an execution's outputs to DIR (default ./EXECUTION), every value in outputs.json",
    flags: [],
  },
  {
    name: "watch",
    usage: ["EXECUTION [-o json]"],
    summary: "follow an execution until it finishes (live on a terminal; -o json: one event per line)",
    flags: [output(["json"])],
  },
  {
    name: "logs",
    usage: ["EXECUTION [NODE] [--follow]"],
    summary: "print the stdout and stderr of an execution's task attempts (or one node's)",
    flags: [{ name: "--follow", help: "print the logs as they are written, until the execution is done" }],
  },
  {
    name: "terminate",
    usage: ["EXECUTION [--cause TEXT]"],
    summary: "abort a running execution",
    flags: [{ name: "--cause", value: "TEXT", help: "why (recorded on the execution)" }],
  },
  {
    name: "relaunch",
    usage: ["EXECUTION"],
    summary: "run an execution again with the same inputs",
    flags: [],
  },
  {
    name: "recover",
    usage: ["EXECUTION"],
    summary: "rerun a failed execution, reusing what succeeded",
    flags: [],
  },
  {
    name: "signal",
    usage: [
      "list EXECUTION",
      "wait EXECUTION SIGNAL [--timeout 5m]",
      "approve|reject SIGNAL EXECUTION",
      "set SIGNAL EXECUTION VALUE",
    ],
    summary: "list, wait for and answer the signals of gate nodes",
    subcommands: ["list", "wait", "approve", "reject", "set"],
    flags: [
      {
        name: "--timeout",
        value: "DURATION",
        help: "signal wait: give up after this long",
        kind: "duration",
      },
      ...LIST_FLAGS,
    ],
  },
  {
    name: "launchplan",
    usage: ["activate|deactivate NAME [--version V]"],
    summary: "turn a launch plan's schedule on or off",
    subcommands: ["activate", "deactivate"],
    flags: [version("launch plan")],
  },
  {
    name: "config",
    usage: ["save NAME --endpoint E --project P [--domain D]", "list", "use NAME"],
    summary: "save, list and select connection profiles",
    subcommands: ["save", "list", "use"],
    flags: [],
  },
  {
    name: "register",
    usage: ["MODULE [--version V]"],
    summary: "register the module's exported tasks, workflows and launch plans",
    flags: [version("registration")],
  },
  {
    name: "worker",
    usage: ["MODULE [--concurrency N]"],
    summary: "serve the module's function tasks (and a `tasks` record export)",
    flags: [
      { name: "--concurrency", value: "N", help: "task attempts run at once (default 4)", kind: "count" },
    ],
  },
  {
    name: "backfill",
    usage: ["LAUNCH_PLAN --from T --to T [--parallel] [--dry-run] [--version V] [--lp-version V]"],
    summary: "run a scheduled launch plan once per tick in a time range",
    flags: [
      { name: "--from", value: "T", help: "the first tick (ISO date/time, inclusive)" },
      { name: "--to", value: "T", help: "the end of the range (ISO date/time, exclusive)" },
      { name: "--parallel", help: "run the ticks at once instead of one after another" },
      { name: "--dry-run", help: "print the ticks, run nothing" },
      version("workflow"),
      { name: "--lp-version", value: "V", help: "the launch plan version" },
    ],
  },
  {
    name: "completion",
    usage: ["bash|zsh"],
    summary: "print a shell completion script (e.g. source <(petrel completion bash))",
    subcommands: ["bash", "zsh"],
    flags: [],
  },
  { name: "help", usage: ["[COMMAND]"], summary: "show help for petrel or one command", flags: [] },
];

export const commandNamed = (name: string | undefined): CommandSpec | undefined =>
  COMMANDS.find((c) => c.name === name);

/** Every flag known anywhere: decides whether `--flag` takes the next word as its value. */
export const BOOLEAN_FLAGS: ReadonlySet<string> = new Set(
  [...GLOBAL_FLAGS, ...COMMANDS.flatMap((c) => c.flags)]
    .filter((f) => f.value === undefined)
    .map((f) => f.name),
);

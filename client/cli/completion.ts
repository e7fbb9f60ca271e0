// `petrel completion bash|zsh`: scripts completing commands, their second words and their flags (and the choices
// of -o), generated from the command table.
import { UsageError } from "./args.js";
import { COMMANDS, type CommandSpec, type FlagSpec, GLOBAL_FLAGS } from "./commands.js";

const allFlags = (c: CommandSpec) => [...c.flags, ...GLOBAL_FLAGS].map((f) => f.name);
const flagWords = (c: CommandSpec) => [
  ...allFlags(c),
  ...(c.flags.some((f) => f.name === "--output") ? ["-o"] : []),
];
const topFlags = [...GLOBAL_FLAGS.map((f) => f.name), "--version"];
const subWords = (c: CommandSpec) =>
  c.name === "help" ? COMMANDS.map((x) => x.name) : (c.subcommands ?? []);
/** Flags whose next word is their value, in any command: skipped when looking for the command word. */
const valueFlags = [
  ...new Set(
    [...GLOBAL_FLAGS, ...COMMANDS.flatMap((c) => c.flags)]
      .filter((f) => f.value !== undefined)
      .map((f) => f.name),
  ),
  "-o",
];
const outputChoices = (c: CommandSpec) => c.flags.find((f: FlagSpec) => f.name === "--output")?.choices ?? [];
/** Commands whose other words are paths (a module, a directory). */
const PATH_COMMANDS = new Set(["register", "worker", "download"]);

function bash(): string {
  const cases = COMMANDS.map(
    (c) => `    ${c.name}) flags="${flagWords(c).join(" ")}"; subs="${subWords(c).join(" ")}" ;;`,
  );
  const outputs = COMMANDS.filter((c) => outputChoices(c).length > 0).map(
    (c) => `        ${c.name}) COMPREPLY=($(compgen -W "${outputChoices(c).join(" ")}" -- "$cur")) ;;`,
  );
  return `# bash completion for petrel: source <(petrel completion bash)
_petrel() {
  local cur prev cmd="" ci=0 i w flags subs
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      ${valueFlags.join("|")}) ((i++)) ;;
      -*) ;;
      *) cmd="$w"; ci=$i; break ;;
    esac
  done
  case "$prev" in
    -o|--output)
      case "$cmd" in
${outputs.join("\n")}
      esac
      return ;;
    ${valueFlags.filter((f) => f !== "-o" && f !== "--output").join("|")}) COMPREPLY=(); return ;;
  esac
  if [[ -z "$cmd" ]]; then
    if [[ "$cur" == -* ]]; then
      COMPREPLY=($(compgen -W "${topFlags.join(" ")}" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "${COMMANDS.map((c) => c.name).join(" ")}" -- "$cur"))
    fi
    return
  fi
  case "$cmd" in
${cases.join("\n")}
    *) flags=""; subs="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ $COMP_CWORD -eq $((ci + 1)) && -n "$subs" ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  elif [[ " ${[...PATH_COMMANDS].join(" ")} " == *" $cmd "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _petrel petrel
`;
}

const zshQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function zsh(): string {
  const described = COMMANDS.map((c) => zshQuote(`${c.name}:${c.summary.replace(/:/g, "\\:")}`));
  const cases = COMMANDS.map(
    (c) => `    (${c.name}) flags=(${flagWords(c).join(" ")}); subs=(${subWords(c).join(" ")}) ;;`,
  );
  const outputs = COMMANDS.filter((c) => outputChoices(c).length > 0).map(
    (c) => `        (${c.name}) compadd -- ${outputChoices(c).join(" ")} ;;`,
  );
  return `#compdef petrel
# zsh completion for petrel: source <(petrel completion zsh), or save as _petrel in a directory of $fpath
_petrel() {
  local -a commands flags subs
  local cmd="" w
  local -i i ci=0
  commands=(${described.join(" ")})
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    case $w in
      (${valueFlags.join("|")}) ((i++)) ;;
      (-*) ;;
      (*) cmd=$w; ci=$i; break ;;
    esac
  done
  case \${words[CURRENT-1]} in
    (-o|--output)
      case $cmd in
${outputs.join("\n")}
      esac
      return ;;
    (${valueFlags.filter((f) => f !== "-o" && f !== "--output").join("|")}) _message value; return ;;
  esac
  if [[ -z $cmd ]]; then
    if [[ \${words[CURRENT]} == -* ]]; then
      compadd -- ${topFlags.join(" ")}
    else
      _describe command commands
    fi
    return
  fi
  case $cmd in
${cases.join("\n")}
    (*) flags=(); subs=() ;;
  esac
  if [[ \${words[CURRENT]} == -* ]]; then
    compadd -- $flags
  elif (( CURRENT == ci + 1 && \${#subs} > 0 )); then
    compadd -- $subs
  elif [[ " ${[...PATH_COMMANDS].join(" ")} " == *" $cmd "* ]]; then
    _files
  fi
}
if [[ "\${funcstack[1]}" == _petrel ]]; then
  _petrel "$@"
else
  compdef _petrel petrel
fi
`;
}

/** The completion script for `shell`. */
export function completionScript(shell: string | undefined): string {
  if (shell === "bash") return bash();
  if (shell === "zsh") return zsh();
  throw new UsageError(`completion takes bash or zsh, not "${shell ?? ""}"`);
}

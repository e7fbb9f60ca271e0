// The executions list's filters: phases and sort apply at once; text fields and times apply with Apply (or Enter).
import { type FormEvent, useState } from "react";
import { type ExecutionFilters, PHASES, SORTS, type SortChoice } from "./filters";

const EMPTY: Omit<ExecutionFilters, "sort"> = {
  phases: [],
  launchPlan: "",
  from: "",
  to: "",
  label: "",
  tag: "",
};

interface Props {
  value: ExecutionFilters;
  onApply: (f: ExecutionFilters) => void;
}

function TextFilter(props: {
  id: string;
  label: string;
  value: string;
  placeholder?: string;
  type?: "text" | "datetime-local";
  onChange: (v: string) => void;
}) {
  return (
    <div>
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        data-testid={props.id}
        type={props.type ?? "text"}
        value={props.value}
        placeholder={props.placeholder}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </div>
  );
}

export function FilterForm({ value, onApply }: Props) {
  const [draft, setDraft] = useState(value);
  const set = (patch: Partial<ExecutionFilters>) => setDraft((d) => ({ ...d, ...patch }));
  const applyNow = (patch: Partial<ExecutionFilters>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    onApply(next);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(draft);
  };
  const togglePhase = (phase: string, on: boolean) =>
    applyNow({ phases: on ? [...draft.phases, phase] : draft.phases.filter((p) => p !== phase) });

  return (
    <form className="filters" onSubmit={submit} aria-label="Filters">
      <fieldset className="phase-options" data-testid="filter-phase">
        <legend>Phase</legend>
        {PHASES.map((p) => (
          <label key={p}>
            <input
              type="checkbox"
              value={p}
              checked={draft.phases.includes(p)}
              onChange={(e) => togglePhase(p, e.target.checked)}
            />{" "}
            {p.replaceAll("_", " ")}
          </label>
        ))}
      </fieldset>
      <div className="filter-grid">
        <TextFilter
          id="filter-launch-plan"
          label="Launch plan"
          value={draft.launchPlan}
          placeholder="exact name"
          onChange={(launchPlan) => set({ launchPlan })}
        />
        <TextFilter
          id="filter-from"
          label="Created from"
          type="datetime-local"
          value={draft.from}
          onChange={(from) => set({ from })}
        />
        <TextFilter
          id="filter-to"
          label="Created until"
          type="datetime-local"
          value={draft.to}
          onChange={(to) => set({ to })}
        />
        <TextFilter
          id="filter-label"
          label="Label"
          value={draft.label}
          placeholder="key=value"
          onChange={(label) => set({ label })}
        />
        <TextFilter id="filter-tag" label="Tag" value={draft.tag} onChange={(tag) => set({ tag })} />
        <div>
          <label htmlFor="sort">Sort</label>
          <select
            id="sort"
            data-testid="sort"
            value={draft.sort}
            onChange={(e) => applyNow({ sort: e.target.value as SortChoice })}
          >
            {Object.entries(SORTS).map(([k, s]) => (
              <option key={k} value={k}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="toolbar">
        <button type="submit" data-testid="apply-filters">
          Apply filters
        </button>
        <button type="button" className="secondary" onClick={() => applyNow(EMPTY)}>
          Clear
        </button>
      </div>
    </form>
  );
}

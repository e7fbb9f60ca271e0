// The executions list's filters: phases and sort apply at once; text fields and times apply with Apply (or Enter).
import { type FormEvent, type ReactNode, useState } from "react";
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

/** A filter's row: its label over its control. */
function Row({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      {children}
    </div>
  );
}

type TextKey = "launchPlan" | "from" | "to" | "label" | "tag";

/** The text and time fields, in order: applied with Apply (or Enter). */
const TEXT_FILTERS: readonly {
  key: TextKey;
  id: string;
  label: string;
  placeholder?: string;
  type?: "datetime-local";
}[] = [
  { key: "launchPlan", id: "filter-launch-plan", label: "Launch plan", placeholder: "exact name" },
  { key: "from", id: "filter-from", label: "Created from", type: "datetime-local" },
  { key: "to", id: "filter-to", label: "Created until", type: "datetime-local" },
  { key: "label", id: "filter-label", label: "Label", placeholder: "key=value" },
  { key: "tag", id: "filter-tag", label: "Tag" },
];

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
        {TEXT_FILTERS.map((f) => (
          <Row key={f.id} id={f.id} label={f.label}>
            <input
              id={f.id}
              data-testid={f.id}
              type={f.type ?? "text"}
              value={draft[f.key]}
              placeholder={f.placeholder}
              onChange={(e) => set({ [f.key]: e.target.value })}
            />
          </Row>
        ))}
        <Row id="sort" label="Sort">
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
        </Row>
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

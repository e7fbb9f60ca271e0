// Timestamps and durations shown the same way on every page.
import { type Duration, type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "react";

/** Milliseconds in a protobuf Duration. */
export function durationMs(d: Duration | undefined): number {
  if (d === undefined) return 0;
  return Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
}

/** "850ms", "12.3s", "4m 05s", "2h 03m", "3d 04h". */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)}s`;
  const pad = (n: number) => String(Math.floor(n)).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${pad((s % 86400) / 3600)}h`;
}

export function formatDuration(d: Duration | undefined): string {
  return d === undefined ? "—" : formatMs(durationMs(d));
}

/** A Timestamp that is set (the zero value means unset in Flyte's messages). */
export function isSet(ts: Timestamp | undefined): ts is Timestamp {
  return ts !== undefined && (ts.seconds !== 0n || ts.nanos !== 0);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A timestamp in local time, with the exact UTC time as its tooltip. */
export function Time({ value }: { value: Timestamp | undefined }) {
  if (!isSet(value)) return <span>—</span>;
  const iso = timestampDate(value).toISOString();
  return (
    <time dateTime={iso} title={iso}>
      {dateTime.format(timestampDate(value))}
    </time>
  );
}

/** The current time, updated every `intervalMs` while `active`. */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}

/**
 * How long something ran: `duration` once it has finished, else the time since `started` (ticking each second when
 * `running`).
 */
export function Elapsed(props: {
  started: Timestamp | undefined;
  duration: Duration | undefined;
  running: boolean;
}) {
  const now = useNow(props.running && isSet(props.started));
  if (!props.running || !isSet(props.started)) {
    return <span>{durationMs(props.duration) > 0 ? formatDuration(props.duration) : "—"}</span>;
  }
  return <span>{formatMs(now - timestampDate(props.started).getTime())}</span>;
}

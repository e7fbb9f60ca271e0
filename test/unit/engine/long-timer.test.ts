// Timers beyond Node's setTimeout range (2^31−1 ms) re-arm instead of firing at once.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_TIMER_MS, setLongTimeout } from "../../../server/engine/long-timer.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("setLongTimeout", () => {
  it("fires after a delay longer than one Node timer holds, not before", () => {
    const fired = vi.fn();
    const thirtyDays = 30 * 24 * 3600 * 1000;
    expect(thirtyDays).toBeGreaterThan(MAX_TIMER_MS);
    setLongTimeout(fired, thirtyDays);
    vi.advanceTimersByTime(1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(thirtyDays - MAX_TIMER_MS - 2);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it("fires a short delay once, and not at all once cancelled (also between chunks)", () => {
    const short = vi.fn();
    setLongTimeout(short, 50);
    vi.advanceTimersByTime(50);
    expect(short).toHaveBeenCalledTimes(1);
    const cancelled = vi.fn();
    const cancel = setLongTimeout(cancelled, MAX_TIMER_MS * 2);
    vi.advanceTimersByTime(MAX_TIMER_MS + 10);
    cancel();
    vi.advanceTimersByTime(MAX_TIMER_MS * 2);
    expect(cancelled).not.toHaveBeenCalled();
  });
});

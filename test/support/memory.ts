// Measures what a piece of code keeps alive: a full garbage collection before each sample of the resident set, so
// garbage waiting for a lazy collection is not counted as held (V8 collects large external buffers late).
import v8 from "node:v8";
import { runInNewContext } from "node:vm";

v8.setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
v8.setFlagsFromString("--no-expose-gc");

/** Samples the resident set size after a full collection; `growth()` is the peak over the first sample. */
export class RssProbe {
  private readonly base: number;
  private peak: number;

  constructor() {
    gc();
    this.base = process.memoryUsage.rss();
    this.peak = this.base;
  }

  sample(): void {
    gc();
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }

  growth(): number {
    return this.peak - this.base;
  }
}

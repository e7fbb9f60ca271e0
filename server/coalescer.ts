// Coalesces concurrent single-item operations into one multi-item operation (one SQL statement for many callers):
// items submitted in the same turn of the event loop, or while the previous operations are in flight, go together.

/** What the batch operation answers for one item: its result or its own error. */
export type Outcome<O> =
  | { readonly ok: true; readonly value: O }
  | { readonly ok: false; readonly error: unknown };

export interface CoalescerOptions<I> {
  /** Most items per operation. */
  readonly maxBatch: number;
  /**
   * Items with equal keys never share an operation (a later one waits for the next), so an operation can tell its
   * items apart by key.
   */
  readonly key?: (item: I) => string;
  /** Operations under way at once (default 1). */
  readonly maxInFlight?: number;
  /**
   * Start an operation at once when fewer than maxInFlight are under way, instead of after the current turn: one
   * caller waits for nothing, and only those that come while operations are under way go together.
   */
  readonly immediate?: boolean;
}

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

export class Coalescer<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;
  private inFlight = 0;

  /** `run` answers one outcome per item, in order; when it throws, every item of that operation fails with it. */
  constructor(
    private readonly run: (items: readonly I[]) => Promise<readonly Outcome<O>[]>,
    private readonly opts: CoalescerOptions<I>,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= (this.opts.maxInFlight ?? 1) || this.queue.length === 0) return;
    if (this.opts.immediate === true) {
      void this.flush();
      return;
    }
    this.scheduled = true;
    // setImmediate (not a microtask): requests read from the socket in the same turn all reach submit() first.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private take(): Pending<I, O>[] {
    const key = this.opts.key;
    const batch: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    const keys = new Set<string>();
    for (const p of this.queue) {
      const k = key?.(p.item);
      if (batch.length >= this.opts.maxBatch || (k !== undefined && keys.has(k))) {
        rest.push(p);
        continue;
      }
      if (k !== undefined) keys.add(k);
      batch.push(p);
    }
    this.queue = rest;
    return batch;
  }

  private async flush(): Promise<void> {
    const batch = this.take();
    if (batch.length === 0) return;
    this.inFlight++;
    try {
      const outcomes = await this.run(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        const o = outcomes[i];
        if (o === undefined) p.reject(new Error("coalesced operation answered fewer outcomes than items"));
        else if (o.ok) p.resolve(o.value);
        else p.reject(o.error);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}

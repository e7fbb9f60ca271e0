// What the engine reports for metrics and logs, published on node:diagnostics_channel: a leaf any layer may import,
// costing nothing while nobody subscribes (server/metrics/petrel-metrics.ts does when a server starts).
import diagnostics from "node:diagnostics_channel";

export interface ClaimEvent {
  readonly seconds: number;
  readonly items: number;
}
export interface AttemptEvent {
  readonly plugin: string;
  /** succeeded, failed (a user or system error), timed_out or interrupted (the engine stopped). */
  readonly outcome: string;
}
export interface PhaseEvent {
  readonly executionId: string;
  readonly from: string;
  readonly to: string;
}

export const claimChannel = diagnostics.channel("petrel:engine:claim");
export const attemptChannel = diagnostics.channel("petrel:engine:attempt");
export const phaseChannel = diagnostics.channel("petrel:execution:phase");

export function publishClaim(e: ClaimEvent): void {
  if (claimChannel.hasSubscribers) claimChannel.publish(e);
}
export function publishAttempt(e: AttemptEvent): void {
  if (attemptChannel.hasSubscribers) attemptChannel.publish(e);
}
export function publishPhase(e: PhaseEvent): void {
  if (phaseChannel.hasSubscribers) phaseChannel.publish(e);
}

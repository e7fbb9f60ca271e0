// Finds live processes on this machine (Linux /proc), for tests that check what outlived a killed process.
import fs from "node:fs";

/** Live (non-zombie) processes whose environment or command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = fs.readFileSync(`/proc/${entry}/environ`, "latin1");
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "latin1");
      if ((env.includes(marker) || cmdline.includes(marker)) && alive(Number(entry)))
        pids.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Whether the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return false;
  }
}

/** Live (non-zombie) processes in any of the given process groups. */
export function processesInGroups(pgids: ReadonlySet<number>): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "latin1");
      // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state !== "Z" && pgids.has(Number(pgrp))) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

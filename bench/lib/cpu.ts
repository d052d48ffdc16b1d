import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time of the benchmark's processes from /proc (Linux): the host child, Azurite, and this
 * process (the emulator runs here). Lets the bench say which component the time goes to.
 */

const ticksPerSecond = 100;

function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

function childPids(): number[] {
  try {
    return readdirSync(`/proc/${String(process.pid)}/task`).flatMap((tid) =>
      readFileSync(`/proc/${String(process.pid)}/task/${tid}/children`, 'utf8')
        .split(' ')
        .filter((p) => p.trim() !== '')
        .map(Number),
    );
  } catch {
    return [];
  }
}

function azuritePid(): number | undefined {
  return childPids().find((pid) => {
    try {
      return readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').includes('azurite');
    } catch {
      return false;
    }
  });
}

export interface CpuSnapshot {
  hostMs: number;
  emulatorMs: number;
  azuriteMs: number;
}

export function cpuSnapshot(hostPid: number): CpuSnapshot {
  const usage = process.cpuUsage();
  const azurite = azuritePid();
  return {
    hostMs: cpuMsOf(hostPid),
    emulatorMs: (usage.user + usage.system) / 1000,
    azuriteMs: azurite === undefined ? Number.NaN : cpuMsOf(azurite),
  };
}

export function cpuDelta(from: CpuSnapshot, to: CpuSnapshot): CpuSnapshot {
  return {
    hostMs: to.hostMs - from.hostMs,
    emulatorMs: to.emulatorMs - from.emulatorMs,
    azuriteMs: to.azuriteMs - from.azuriteMs,
  };
}

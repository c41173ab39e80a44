// Per-process resources from /proc (Linux): resident memory and CPU time of hookd's processes.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const CLOCK_TICKS = (() => {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(result.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

export interface ProcSample {
  at: number;
  /** Resident set now, MiB. */
  rssMiB: number;
  /** Peak resident set since start (or since the last resetPeak), MiB. */
  hwmMiB: number;
  /** User + system CPU seconds since start. */
  cpuSeconds: number;
}

function statusKiB(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : NaN;
}

export function sampleProcess(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name (which may contain spaces): state is field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return {
    at: Date.now(),
    rssMiB: statusKiB(status, 'VmRSS') / 1024,
    hwmMiB: statusKiB(status, 'VmHWM') / 1024,
    cpuSeconds: (utime + stime) / CLOCK_TICKS,
  };
}

/** Resets VmHWM to the current RSS (writing 5 to clear_refs, Linux 4.0+). False when refused. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Whole-machine CPU seconds (all cores, busy time only) from /proc/stat, to see what PostgreSQL and Redis cost too. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  void idle;
  void iowait;
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS;
}

export interface CpuUse {
  cpuSeconds: number;
  cpuSecondsPer1kDeliveries: number | null;
  rssMiB?: number;
  hwmMiB?: number;
}

/** CPU used by named processes between two moments, and per 1,000 deliveries. */
export class CpuMeter {
  private readonly start: Map<string, ProcSample>;
  private readonly machineStart = machineBusySeconds();

  constructor(private readonly pids: Record<string, number>) {
    this.start = new Map(Object.entries(pids).map(([name, pid]) => [name, sampleProcess(pid)]));
  }

  stop(deliveries: number): Record<string, CpuUse> {
    const result: Record<string, CpuUse> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const end = sampleProcess(pid);
      const cpuSeconds = end.cpuSeconds - this.start.get(name)!.cpuSeconds;
      result[name] = {
        cpuSeconds: round3(cpuSeconds),
        cpuSecondsPer1kDeliveries: deliveries > 0 ? round3((cpuSeconds * 1000) / deliveries) : null,
        rssMiB: round3(end.rssMiB),
        hwmMiB: round3(end.hwmMiB),
      };
    }
    const machine = machineBusySeconds() - this.machineStart;
    result.machine = {
      cpuSeconds: round3(machine),
      cpuSecondsPer1kDeliveries: deliveries > 0 ? round3((machine * 1000) / deliveries) : null,
    };
    return result;
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

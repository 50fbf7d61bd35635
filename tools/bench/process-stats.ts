import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';

/** Linux only: what the bench reads from /proc about the processes it measures. */

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux the bench targets

/** User + system CPU seconds a process has used so far (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after its closing paren are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Peak resident set size (VmHWM) and current RSS (VmRSS) in MB, from /proc/<pid>/status. */
export function memoryMb(pid: number): { peakRssMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakRssMb: Math.round(kb('VmHWM') / 102.4) / 10, rssMb: Math.round(kb('VmRSS') / 102.4) / 10 };
}

/**
 * Pids of the processes named `name` that listen on TCP `port` (from /proc/net/tcp{,6} and their
 * fds): the NATS server behind NATS_URL, not every nats-server of the machine.
 */
export function pidsListeningOn(name: string, port: number): number[] {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, inode is field 10
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1].split(':')[1], 16) === port) inodes.add(f[9]);
    }
  }
  return pidsOf(name).filter((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '');
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

/** Pids whose command line starts with an executable named `name` (e.g. `clickhouse-server`). */
export function pidsOf(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv0 = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0];
      if (argv0 === name || argv0.endsWith(`/${name}`)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Busy CPU seconds of the whole machine (all cores) so far, from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/**
 * CPU used by named processes over a window: `start()` takes a snapshot, `stop()` answers how many
 * cores each used on average, how many the whole machine was busy, and what the rest of the
 * machine (other people's work) took: the noise figure to read every other number against.
 */
export class CpuWindow {
  private before = new Map<string, number>();
  private machineBefore = 0;
  private startedAt = 0;

  constructor(private readonly sources: Record<string, () => number>) {}

  start(): this {
    this.before = new Map(Object.entries(this.sources).map(([name, read]) => [name, read()]));
    this.machineBefore = machineBusySeconds();
    this.startedAt = performance.now();
    return this;
  }

  stop(): CpuReport {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const cores: Record<string, number> = {};
    let ours = 0;
    for (const [name, read] of Object.entries(this.sources)) {
      const used = read() - (this.before.get(name) ?? 0);
      ours += used;
      cores[name] = round2(used / seconds);
    }
    const machine = (machineBusySeconds() - this.machineBefore) / seconds;
    return { seconds: round2(seconds), cores, machineBusyCores: round2(machine), otherCores: round2(Math.max(0, machine - ours / seconds)) };
  }
}

export interface CpuReport {
  seconds: number;
  /** Average cores used per source over the window. */
  cores: Record<string, number>;
  machineBusyCores: number;
  /** Busy cores not accounted for by the sources: other work on the machine. */
  otherCores: number;
}

export function machineInfo(): { cores: number; model: string; loadavg: number[] } {
  return { cores: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', loadavg: os.loadavg().map(round2) };
}

const round2 = (v: number) => Math.round(v * 100) / 100;

import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import type { EnvironmentInfo, HeartbeatMetrics } from '../../protocol/runner.js';

const OS_NAMES: Record<string, string> = { win32: 'windows' };
const ARCH_NAMES: Record<string, string> = { x64: 'amd64', ia32: '386' };

/** Seed 004's EnvironmentInfo, with Go's names for the OS and architecture. */
export function environmentInfo(workspace: string, now = new Date()): EnvironmentInfo {
  let username = '';
  try {
    username = os.userInfo().username;
  } catch {
    username = process.env.USER ?? '';
  }
  return {
    os: OS_NAMES[process.platform] ?? process.platform,
    os_version: os.release(),
    arch: ARCH_NAMES[process.arch] ?? process.arch,
    hostname: os.hostname(),
    shell: process.env.SHELL ?? '/bin/sh',
    home_dir: os.homedir(),
    workspace_root: workspace,
    username,
    num_cpu: os.availableParallelism(),
    total_memory_mb: Math.round(os.totalmem() / (1024 * 1024)),
    current_time: rfc3339(now),
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    utc_offset: utcOffset(now),
  };
}

function utcOffset(now: Date): string {
  const minutes = -now.getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

function rfc3339(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}T${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}${utcOffset(now)}`;
}

interface CpuSample {
  idle: number;
  total: number;
}

function sampleCpu(): CpuSample {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

const round1 = (n: number) => Math.round(Math.min(100, Math.max(0, n)) * 10) / 10;

/**
 * CPU, memory and disk use in percent, from the OS. CPU is the busy share since the previous sample (the
 * first one: since boot); memory counts what Linux reports as available as free (page cache is not use);
 * disk is the workspace's file system.
 */
export class MetricsSampler {
  private last: CpuSample = sampleCpu();

  constructor(private readonly workspace: string) {}

  async sample(): Promise<HeartbeatMetrics> {
    const now = sampleCpu();
    const dTotal = now.total - this.last.total;
    const dIdle = now.idle - this.last.idle;
    this.last = now;
    const metrics: HeartbeatMetrics = {};
    if (dTotal > 0) metrics.cpu_percent = round1(100 * (1 - dIdle / dTotal));
    else if (now.total > 0) metrics.cpu_percent = round1(100 * (1 - now.idle / now.total));
    metrics.memory_percent = round1(100 * (1 - (await availableMemory()) / os.totalmem()));
    try {
      const fs = await statfs(this.workspace);
      if (fs.blocks > 0) metrics.disk_percent = round1(100 * (1 - fs.bavail / fs.blocks));
    } catch {
      // The workspace vanished or the platform cannot tell: send the other metrics.
    }
    return metrics;
  }
}

async function availableMemory(): Promise<number> {
  if (process.platform === 'linux') {
    try {
      const m = /^MemAvailable:\s+(\d+) kB/m.exec(await readFile('/proc/meminfo', 'utf8'));
      if (m?.[1]) return Number(m[1]) * 1024;
    } catch {
      // fall through to the portable figure
    }
  }
  return os.freemem();
}

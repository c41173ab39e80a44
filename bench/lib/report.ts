// What a stage hands back: its results for the JSON, and rows for the printed table.
import { cpus, totalmem } from 'node:os';
import type pg from 'pg';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../../test/helpers/stack.ts';

export interface Row {
  stage: string;
  metric: string;
  value: number | string | null;
  unit?: string;
  /** Human-readable target, e.g. "≤ 10 ms". */
  target?: string;
  pass?: boolean | null;
}

export interface StageOutput {
  result: Record<string, unknown>;
  rows: Row[];
}

export function row(stage: string, metric: string, value: number | string | null | undefined, unit = '', target?: { text: string; pass: boolean | null }): Row {
  return { stage, metric, value: value ?? null, unit, ...(target ? { target: target.text, pass: target.pass } : {}) };
}

/** `value ≤ limit` as a target; null (unknown) when there is no value. */
const limitText = (limit: number) => (Math.abs(limit) >= 100 ? String(Math.round(limit)) : String(Math.round(limit * 100) / 100));

export function atMost(value: number | null | undefined, limit: number, unit: string) {
  return { text: `≤ ${limitText(limit)}${unit ? ` ${unit}` : ''}`, pass: value === null || value === undefined || !Number.isFinite(value) ? null : value <= limit };
}

export function atLeast(value: number | null | undefined, limit: number, unit: string) {
  return { text: `≥ ${limitText(limit)}${unit ? ` ${unit}` : ''}`, pass: value === null || value === undefined || !Number.isFinite(value) ? null : value >= limit };
}

/** A rate target is met only by a rate that held over the long window, however well it did in short ones. */
export function ifConfirmed(target: { text: string; pass: boolean | null }, confirmed: boolean) {
  return confirmed ? target : { text: target.text, pass: false };
}

function formatValue(value: Row['value']): string {
  if (value === null) return '–';
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : String(Math.round(value * 100) / 100);
}

/** A Markdown table: prints well in a terminal and pastes into the README as is. */
export function formatTable(rows: Row[]): string {
  const cells = rows.map((r) => [
    r.stage,
    r.metric,
    `${formatValue(r.value)}${r.unit && r.value !== null ? ` ${r.unit}` : ''}`,
    r.target ?? '',
    r.pass === undefined ? '' : r.pass === null ? '?' : r.pass ? 'pass' : 'FAIL',
  ]);
  const header = ['stage', 'metric', 'value', 'target', 'result'];
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((text, i) => (i === 2 ? text.padStart(widths[i]!) : text.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 2 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`, ...cells.map(line)].join('\n');
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  postgres: string;
  redis: string;
}

export async function describeMachine(sql: pg.Pool): Promise<Machine> {
  const { rows } = await sql.query<{ server_version: string }>('SHOW server_version');
  const redis = new Redis(REDIS_URL);
  const info = await redis.info('server');
  redis.disconnect();
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    postgres: rows[0]?.server_version ?? 'unknown',
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
  };
}

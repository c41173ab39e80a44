// The benchmark's quick mode, so that it never rots: it runs as `npm run bench -- --quick` would
// (its own database, QUEUE_PREFIX, receiver, server and worker), writing its JSON to a temporary
// directory. Only the shape of the results is checked here, never timing thresholds.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STAGES } from '../../bench/lib/context.ts';
import { ROOT } from '../helpers/stack.ts';

const out = mkdtempSync(join(tmpdir(), 'hookd-bench-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const positive = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0;
const finite = (value: unknown) => typeof value === 'number' && Number.isFinite(value);

describe('npm run bench -- --quick', () => {
  it('runs every stage and writes positive, finite results', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'bench/main.ts', '--quick', '--out', out], { cwd: ROOT, maxBuffer: 16 * 2 ** 20, timeout: 170_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });
    const file = join(out, 'latest-quick.json');
    expect(existsSync(file), `no results file; stderr:\n${stderr}`).toBe(true);
    const results = JSON.parse(readFileSync(file, 'utf8'));
    expect(results.errors, stderr).toEqual({});
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('| stage');
    expect(results.mode).toBe('quick');
    expect(results.machine.cores).toBeGreaterThan(0);
    for (const stage of STAGES) expect(results.stages[stage], `stage ${stage}`).toBeDefined();
    const { ceiling, ingest, batch, sustained, live, retries, growth, resources } = results.stages;

    expect(positive(ceiling.http.perSecond)).toBe(true);
    expect(positive(ceiling.database.perSecond)).toBe(true);
    expect(positive(ceiling.naive.perSecond)).toBe(true);
    expect(ceiling.naive.errors).toBe(0);
    // Measured again after the live stage, with its ratio to the first.
    expect(ceiling.naiveAgain.after).toBe('live');
    expect(positive(ceiling.naiveAgain.perSecond)).toBe(true);
    expect(ceiling.naiveAgain.errors).toBe(0);
    expect(ceiling.naiveAgain.ratioToFirst).toBeCloseTo(ceiling.naiveAgain.perSecond / ceiling.naive.perSecond, 1);

    expect(positive(ingest.requestsPerSecond)).toBe(true);
    expect(finite(ingest.latency.p50) && finite(ingest.latency.p99)).toBe(true);
    expect(ingest.delivery.delivered).toBeGreaterThan(0);

    expect(positive(batch.eventsPerSecond)).toBe(true);
    expect(batch.delivery.delivered).toBeGreaterThan(0);

    expect(positive(sustained.topRate)).toBe(true);
    expect(sustained.windows.length).toBeGreaterThan(0);
    expect(sustained.half.deliveredByEnd).toBeGreaterThan(0);
    expect(finite(sustained.half.endToEnd.p50) && finite(sustained.half.endToEnd.p99)).toBe(true);
    expect(finite(sustained.half.load.ingestLatency.p99)).toBe(true);
    // The server's own timing of the same requests: one per request the window made (the window's
    // only GraphQL POSTs), and within the client's round trip.
    expect(sustained.half.serverIngest.count).toBe(sustained.half.load.requests);
    expect(finite(sustained.half.serverIngest.p99)).toBe(true);
    expect(sustained.half.serverIngest.p50).toBeLessThanOrEqual(sustained.half.load.ingestLatency.p99);
    expect(positive(sustained.half.machineBusyPercent)).toBe(true);
    // A producer sending one request per event: its own top rate, and its latencies at half of it.
    expect(positive(sustained.single.topRate)).toBe(true);
    expect(sustained.single.half.load.mode).toBe('single');
    expect(sustained.single.half.load.offeredRate).toBe(Math.max(1, Math.round(sustained.single.topRate / 2)));
    expect(finite(sustained.single.half.load.ingestLatency.p99)).toBe(true);
    expect(positive(sustained.single.half.machineBusyPercent)).toBe(true);

    expect(live.windows.map((window: { fanout: number }) => window.fanout)).toEqual([1, 10]);
    for (const window of live.windows) {
      expect(window.subscriptionsOpen).toBe(window.clients);
      expect(window.messages).toBeGreaterThan(0);
      expect(finite(window.latency.p50) && finite(window.latency.p99)).toBe(true);
      expect(window.window.deliveredByEnd).toBeGreaterThan(0);
      expect(positive(window.machineBusyPercent)).toBe(true);
    }

    expect(retries.delivered).toBeGreaterThan(0);
    expect(retries.failedFirst).toBeGreaterThan(0);
    expect(retries.attempts).toBeGreaterThan(retries.events);

    expect(growth.prefill.events).toBeGreaterThanOrEqual(20_000);
    expect(growth.prefill.attempts).toBeGreaterThanOrEqual(60_000);
    expect(growth.windows.grown[0].deliveredByEnd).toBeGreaterThan(0);
    expect(growth.windows.small[0].deliveredByEnd).toBeGreaterThan(0);
    expect(growth.costRatio.worker).toBeGreaterThan(0);
    expect(growth.deliveredRatio).toBeGreaterThan(0);
    const plans = Object.values(growth.explain as Record<string, string[]>).flat().join('\n');
    expect(plans).toMatch(/Index (Only )?Scan/);
    for (const query of growth.queries) expect(finite(query.sqlMs), query.name).toBe(true);

    for (const name of ['server', 'worker'] as const) {
      expect(positive(resources[name].peakRssMiB)).toBe(true);
      expect(positive(resources[name].cpuSecondsPer1kDeliveries)).toBe(true);
      expect(positive(resources[name].rssGrowth)).toBe(true);
    }
  }, 180_000);
});

// What every stage gets: the options, the running stack, and the results of the stages before it.
import type { IngestMode } from './load.ts';
import type { BenchStack } from './stack.ts';

export const STAGES = ['ceiling', 'ingest', 'batch', 'sustained', 'live', 'retries', 'growth', 'resources'] as const;
export type StageName = (typeof STAGES)[number];

export interface BenchOptions {
  quick: boolean;
  stages: StageName[];
  /** Multiplies every window's length (`--duration=0.5` halves them). */
  durationScale: number;
  outDir: string;
  /** Paste the table into README.md (full runs writing to bench/results only). */
  readme: boolean;
  /** The top sustained rate to use when the sustained stage does not run (`--rate=`). */
  rate: number | null;
  ingestClients: number;
  liveClients: number;
  /** graphql-ws clients per webhook subscription in the live stage. */
  liveFanouts: number[];
  /** Events the growth stage pre-fills (3 attempts each). */
  growthEvents: number;
  /** How the delivery stages' producer hands events over (one request per tick, or per event). */
  ingestMode: IngestMode;
}

export interface BenchContext {
  options: BenchOptions;
  stack: BenchStack;
  results: Partial<Record<StageName, Record<string, any>>>;
  log(message: string): void;
  /** A window length: `full` ms in full mode, `quick` ms in quick mode, times --duration. */
  ms(full: number, quick: number): number;
  /** The subscription the delivery stages ingest into (created once). */
  mainSubscription(): Promise<string>;
  /** Highest rate the sustained stage kept up with (or --rate, or a default). */
  topRate(): number;
}

/** Shapes shared by the capture process, the replay process and the orchestrator. */

export interface CapturedStatement {
  text: string;
  /** Parameters as sent; Dates as { $date: iso }. */
  values: unknown[];
  /** node-postgres prepared-statement name, when the caller used one. */
  name?: string;
  /** Sent on a connection that commits asynchronously (the rate limiters' pool). */
  asyncCommit?: boolean;
  rows: Array<Record<string, unknown>>;
  rowCount?: number | null;
  error?: string;
  /** ms from the start of the operation. */
  at: number;
}

export interface CaptureOpSpec {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  userId?: string;
  /** The values of this instance that vary per operation (ids, keys), by role. */
  inputs: Record<string, string>;
  warmup?: { variables?: Record<string, unknown>; userId?: string };
}

export interface DeliverySpec {
  name: string;
  subscription: string;
  subscribers: string[];
  query: string;
  variables?: Record<string, unknown>;
  userId: string;
  expectEvents: number;
}

export interface CaptureJob {
  env: Record<string, string>;
  ops: CaptureOpSpec[];
  deliveries?: DeliverySpec[];
}

export interface CapturedOp {
  name: string;
  inputs: Record<string, string>;
  startedAt: number;
  ms: number;
  response: string;
  ok: boolean;
  statements: CapturedStatement[];
  typeormCount: number;
}

export interface ReplayJob {
  url: string;
  op: CapturedOp;
  /** One entry per iteration: the same roles as op.inputs. */
  inputs: Array<Record<string, string>>;
  /** Reuse inputs round-robin (read-only operations) instead of stopping when they run out. */
  cycle: boolean;
  connections: number;
  seconds: number;
}

export interface ReplayResult {
  name: string;
  connections: number;
  iterations: number;
  seconds: number;
  /** Operations (whole statement sequences) per second. */
  ops: number;
  statementsPerOp: number;
  errors: number;
  sampleError?: string;
  latency: { p50: number | null; p99: number | null };
  exhausted: boolean;
}

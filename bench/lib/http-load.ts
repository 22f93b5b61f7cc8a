import autocannon from 'autocannon';
import http from 'node:http';
import { Latencies, round } from './common';

/** One request of a workload: its JSON body and the bearer token it carries. */
export interface Req {
  body: string;
  token?: string;
}

export interface HttpRunOptions {
  url: string;
  connections: number;
  seconds: number;
  /** Open-loop pacing across all connections (autocannon's overallRate); closed loop when absent. */
  rate?: number;
  next: () => Req | null;
  /** A GraphQL-level error in a 200 answer counts as an error (autocannon only sees statuses). */
  checkErrors?: boolean;
}

export interface HttpRunResult {
  rps: number;
  requests: number;
  seconds: number;
  latency: ReturnType<Latencies['summary']>;
  errors: number;
  non2xx: number;
  gqlErrors: number;
  sampleError?: string;
  exhausted: boolean;
}

/** autocannon's programmatic API; latencies recorded at µs precision from its response events. */
export async function runHttp(o: HttpRunOptions): Promise<HttpRunResult> {
  const lat = new Latencies();
  let gqlErrors = 0;
  let sampleError: string | undefined;
  let exhausted = false;
  let fillers = 0;
  const u = new URL(o.url);
  const instance = autocannon({
    url: `${u.protocol}//${u.host}`,
    connections: o.connections,
    pipelining: 1,
    duration: o.seconds,
    overallRate: o.rate ? Math.max(1, Math.round(o.rate)) : undefined,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: u.pathname,
        setupRequest: (req: autocannon.Request) => {
          const r = o.next();
          if (!r) {
            exhausted = true;
            fillers++;
            // Out of fresh inputs: a cheap request that is not counted as the workload.
            return { ...req, body: '{"query":"{ __typename }"}', headers: { 'content-type': 'application/json' } };
          }
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (r.token) headers.authorization = `Bearer ${r.token}`;
          return { ...req, method: 'POST', path: u.pathname, body: r.body, headers };
        },
        onResponse: (status: number, resBody: string) => {
          if (status === 200 && o.checkErrors !== false && resBody.includes('"errors"')) {
            gqlErrors++;
            sampleError ??= resBody.slice(0, 600);
          } else if (status !== 200) {
            sampleError ??= `${status} ${resBody.slice(0, 600)}`;
          }
        },
      } as unknown as autocannon.Request,
    ],
  } as autocannon.Options) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => lat.record(responseTime));
  const result = await instance;
  // Filler requests sent after the inputs ran out are not the workload.
  const total = Math.max(0, result.requests.total - fillers);
  const secs = result.duration || o.seconds;
  return {
    rps: round(total / secs, 1) ?? 0,
    requests: total,
    seconds: secs,
    latency: lat.summary(),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    gqlErrors,
    sampleError,
    exhausted,
  };
}

/** A keep-alive HTTP client for the open-loop chat and receipt workloads (one request at a time per socket). */
export class HttpPoster {
  private readonly agent: http.Agent;
  private readonly u: URL;
  constructor(url: string, maxSockets = 256) {
    this.u = new URL(url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }
  post(bodyText: string, token: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.u.hostname,
          port: this.u.port,
          path: this.u.pathname,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(bodyText), authorization: `Bearer ${token}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(bodyText);
    });
  }
  close(): void {
    this.agent.destroy();
  }
}

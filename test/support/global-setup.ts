import path from 'node:path';
import { createDataSource } from '../../src/db/data-source';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { databaseUrl, withAdminClient } from './db';

/**
 * Migrates once into a template database; each test file clones it (CREATE DATABASE …
 * TEMPLATE) so files run in parallel on their own data. DATABASE_URL if set, otherwise an
 * embedded PostgreSQL started here.
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const root = path.resolve(__dirname, '..', '..');
    const port = Number(process.env.TEST_EMBEDDED_PG_PORT ?? 54339);
    const embedded = await startEmbeddedPostgres(path.join(root, '.data', 'test-pg'), port);
    (globalThis as Record<string, unknown>).__EMBEDDED_PG__ = embedded;
    adminUrl = embedded.url('postgres');
  }
  const template = `mr_tpl_${process.pid}`;
  await withAdminClient(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${template}`);
  });
  const ds = createDataSource({ url: databaseUrl(adminUrl, template) });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  process.env.TEST_ADMIN_DATABASE_URL = adminUrl;
  process.env.TEST_TEMPLATE_DATABASE = template;
}

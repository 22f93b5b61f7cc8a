import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTestApp, type TestApp } from '../support/app';
import { ensureBuilt, ROOT } from '../support/build';
import { printAppSchema, schemaDiffers, SCHEMA_FILE } from '../../src/scripts/emit-schema';
import { MeDocument } from '../generated/graphql';

const run = promisify(execFile);
let t: TestApp;
beforeAll(async () => {
  ensureBuilt();
  t = await startTestApp();
});
afterAll(() => t.close());

describe('health', () => {
  it('/healthz says the process is up and /readyz that the database answers', async () => {
    const base = t.app.url.replace('/graphql', '');
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('every response carries a request id, echoing the caller’s', async () => {
    const res = await fetch(t.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-123' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
  });
});

describe('admin command line', () => {
  const admin = (...args: string[]) =>
    run('node', [path.join(ROOT, 'dist/src/scripts/admin.js'), ...args], {
      env: { ...process.env, DATABASE_URL: t.config.databaseUrl, LOG_LEVEL: 'silent' },
    });

  it('promotes to moderator and sets or clears verified', async () => {
    const u = await t.makeUser();
    expect((await admin('promote', u.username)).stdout).toContain('role=MODERATOR');
    expect((await admin('verify', u.username)).stdout).toContain('verified=true');
    let me = await t.ok(MeDocument, {}, u.token);
    expect(me.me.verified).toBe(true);
    await admin('verify', u.username, '--off');
    me = await t.ok(MeDocument, {}, u.token);
    expect(me.me.verified).toBe(false);
    const [{ role }] = await t.query<{ role: string }>('SELECT role FROM users WHERE id = $1', [u.id]);
    expect(role).toBe('MODERATOR');
  });

  it('fails with a message for an unknown user and with usage for a bad command', async () => {
    await expect(admin('promote', 'no_such_user_x')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('no_such_user_x') });
    await expect(admin('explode')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage') });
  });
});

describe('schema drift check', () => {
  it('passes on the committed schema and fails once it differs from the code', async () => {
    const printed = await printAppSchema();
    expect(schemaDiffers(printed, SCHEMA_FILE)).toBe(false);
    const dir = mkdtempSync(path.join(tmpdir(), 'schema-'));
    const changed = path.join(dir, 'schema.graphql');
    writeFileSync(changed, readFileSync(SCHEMA_FILE, 'utf8').replace('type User {', 'type User {\n  removedField: String'));
    expect(schemaDiffers(printed, changed)).toBe(true);
    const check = run('node', [path.join(ROOT, 'dist/src/scripts/emit-schema.js'), '--check', `--file=${changed}`]);
    await expect(check).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('differs') });
  });
});

import type { PoolClient } from 'pg';
import { pipelined } from '../../src/db/pipeline';
import { prepared, preparedRow } from '../../src/db/prepared';
import { runInTransaction, type Tx } from '../../src/db/transaction';
import { SendMessageRequestDocument as SEND_REQUEST } from '../generated/graphql';
import { codeOf, startTestApp, type TestApp } from '../support/app';
import { holdingPair, waitingOnPairLock } from '../support/locks';

/**
 * pipelined(): statements of one transaction sent in one write, run by PostgreSQL in the
 * order given; and sendMessageRequest, whose reads and writes go that way, still reads
 * its facts only once it holds the pair's lock.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** How many writes the transaction's connection makes to PostgreSQL while `during` runs. */
async function writesDuring<T>(tx: Tx, during: () => Promise<T>): Promise<{ writes: number; value: T }> {
  const client = (tx.manager.queryRunner as unknown as { databaseConnection: PoolClient }).databaseConnection;
  const socket = (client as unknown as { connection: { stream: { _write: Function; _writev: Function } } }).connection.stream;
  const [write, writev] = [socket._write, socket._writev];
  let writes = 0;
  socket._write = function (this: unknown, ...args: unknown[]) {
    writes++;
    return write.apply(this, args);
  };
  socket._writev = function (this: unknown, ...args: unknown[]) {
    writes++;
    return writev.apply(this, args);
  };
  try {
    return { value: await during(), writes };
  } finally {
    Object.assign(socket, { _write: write, _writev: writev });
  }
}

const sql = (tx: Tx, name: string, text: string, values: unknown[] = []) => prepared(tx.manager, name, text, values);

describe('pipelined()', () => {
  it('sends its statements in one write, and PostgreSQL runs them in order, each seeing the ones before', async () => {
    await t.query('CREATE TABLE IF NOT EXISTS pipeline_probe (n int)');
    const { writes, value } = await runInTransaction(t.app.dataSource, async (tx) => {
      await sql(tx, 'probe.clear', 'DELETE FROM pipeline_probe');
      return writesDuring(tx, () =>
        pipelined(tx.manager, () => [
          sql(tx, 'probe.insert-1', 'INSERT INTO pipeline_probe VALUES (1)'),
          sql(tx, 'probe.insert-2', 'INSERT INTO pipeline_probe (n) SELECT max(n) + 1 FROM pipeline_probe'),
          preparedRow<{ seen: number[] }>(tx.manager, 'probe.read', 'SELECT array_agg(n ORDER BY n) AS seen FROM pipeline_probe', []),
        ]),
      );
    });
    expect(writes).toBe(1);
    expect(value[2]!.seen).toEqual([1, 2]);
  });

  it('answers with the first statement that failed, and nothing it wrote stays', async () => {
    await t.query('CREATE TABLE IF NOT EXISTS pipeline_probe (n int)');
    await t.query('DELETE FROM pipeline_probe');
    const failed = runInTransaction(t.app.dataSource, (tx) =>
      pipelined(tx.manager, () => [
        sql(tx, 'probe.insert-7', 'INSERT INTO pipeline_probe VALUES (7)'),
        sql(tx, 'probe.divide', 'SELECT 1 / 0'),
        sql(tx, 'probe.insert-8', 'INSERT INTO pipeline_probe VALUES (8)'),
      ]),
    );
    await expect(failed).rejects.toMatchObject({ code: '22012' });
    expect(await t.query('SELECT n FROM pipeline_probe')).toEqual([]);
  });

  it('refuses a function that awaited before its statement (it would have run out of order)', async () => {
    const late = async (tx: Tx) => {
      await Promise.resolve();
      return sql(tx, 'probe.late', 'SELECT 2');
    };
    const run = runInTransaction(t.app.dataSource, async (tx) => {
      await sql(tx, 'probe.first', 'SELECT 0');
      return pipelined(tx.manager, () => [late(tx), sql(tx, 'probe.one', 'SELECT 1')]);
    });
    await expect(run).rejects.toThrow(/2 statements started, 1 reached at once/);
  });
});

describe('sendMessageRequest, its reads sent with its locks', () => {
  it('sees a block that commits while the send waits for the pair', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const held = await holdingPair(t, a, b, (tx) => t.app.services.relationships.blockInTx(tx, b.id, a.id));
    let answered = false;
    const res = t.gql(SEND_REQUEST, { input: { recipientId: b.id, text: 'after the block' } }, a.token).finally(() => (answered = true));
    await waitingOnPairLock(t, () => answered);
    expect(answered).toBe(false);
    await held.commit();
    expect(codeOf(await res)).toBe('RECIPIENT_UNAVAILABLE');
    expect(await t.query('SELECT 1 FROM message_requests WHERE sender_id = $1', [a.id])).toEqual([]);
    expect(await t.query(`SELECT 1 FROM messages WHERE text = 'after the block'`)).toEqual([]);
  });

  it('a new request still lands whole: conversation, intro, request, notification and events', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const res = await t.gql(SEND_REQUEST, { input: { recipientId: b.id, text: 'hello there' } }, a.token);
    expect(res.errors).toBeUndefined();
    const id = res.data!.sendMessageRequest.id;
    const [row] = await t.query<{ status: string; conversation_id: string; intro: string; members: number }>(
      `SELECT r.status, r.conversation_id, m.text AS intro,
              (SELECT count(*)::int FROM conversation_members WHERE conversation_id = r.conversation_id) AS members
         FROM message_requests r JOIN messages m ON m.id = r.message_id WHERE r.id = $1`,
      [id],
    );
    expect(row).toMatchObject({ status: 'PENDING', intro: 'hello there', members: 2 });
    expect(await t.query('SELECT type FROM notifications WHERE request_id = $1', [id])).toEqual([{ type: 'MESSAGE_REQUEST_RECEIVED' }]);
    const events = await t.query<{ type: string }>('SELECT type FROM events WHERE user_id = $1 ORDER BY seq', [b.id]);
    expect(events.map((e) => e.type)).toEqual(['MESSAGE_REQUEST_RECEIVED', 'INBOX_BADGE_CHANGED']);
  });
});

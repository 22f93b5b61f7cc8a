import { startTestApp, PASSWORD, type TestApp } from '../support/app';
import { LogInDocument, SendMessageRequestDocument } from '../generated/graphql';

/** Standards: structured logs with a request id; no secrets and no message text. */
let t: TestApp;
const lines: string[] = [];
beforeAll(async () => {
  t = await startTestApp({ LOG_LEVEL: 'debug' }, { logDestination: { write: (line) => void lines.push(line) } });
});
afterAll(() => t.close());

it('logs one JSON line per operation with its request id, and never passwords, tokens or message text', async () => {
  const [a, b] = [await t.makeUser(), await t.makeUser()];
  const login = await t.gql(LogInDocument, { input: { username: a.username, password: PASSWORD } }, undefined, { 'x-request-id': 'req-login-1' });
  const token = login.data!.logIn.token;
  await t.gql(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'very private words' } }, token, { 'x-request-id': 'req-send-1' });
  await t.gql(SendMessageRequestDocument, { input: { recipientId: b.id, text: '' } }, token, { 'x-request-id': 'req-send-2' });

  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const ops = records.filter((r) => r.msg === 'graphql operation');
  expect(ops.find((r) => r.requestId === 'req-login-1')).toMatchObject({ operation: 'LogIn', type: 'mutation' });
  expect(ops.find((r) => r.requestId === 'req-send-1')).toMatchObject({ operation: 'SendMessageRequest', viewer: a.id });
  expect(ops.find((r) => r.requestId === 'req-send-2')).toMatchObject({ errors: ['REQUEST_ALREADY_PENDING'] });
  const all = lines.join('\n');
  expect(all).not.toContain(PASSWORD);
  expect(all).not.toContain(token);
  expect(all).not.toContain('very private words');
});

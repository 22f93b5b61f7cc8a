import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../support/app';

/**
 * The GraphQL IDE in a real browser: Debian's Chromium driven by playwright-core (never a
 * downloaded browser). CHROMIUM_PATH overrides the executable; without one this file's
 * browser tests are skipped with a warning (`.ci/run` installs chromium).
 */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM_PATH);
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');

if (!haveChromium) {
  console.warn(`browser.test.ts: no Chromium at ${CHROMIUM_PATH}; skipping the GraphiQL browser test. Install it (apt-get install chromium) or set CHROMIUM_PATH.`);
}

type BrowserGlobals = { document: { querySelector(selector: string): { textContent: string | null } | null } };

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

describe('GET /graphql', () => {
  it('serves the IDE page to a browser, built from local files only', async () => {
    const res = await fetch(t.app.url, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    expect(html).toContain('<div id="graphiql">');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('still answers GraphQL to clients that ask for JSON, over GET and POST', async () => {
    const me = await t.makeUser();
    const get = await fetch(`${t.app.url}?query=${encodeURIComponent('{ me { username } }')}`, {
      headers: { accept: 'application/json', authorization: `Bearer ${me.token}`, 'apollo-require-preflight': 'true' },
    });
    expect(get.headers.get('content-type')).toMatch(/json/);
    expect(await get.json()).toEqual({ data: { me: { username: me.username } } });
    const post = await t.gql('{ me { username } }', undefined, me.token);
    expect(post.data).toEqual({ me: { username: me.username } });
  });
});

describe('GET /graphql in production', () => {
  it('serves no IDE and no landing page unless GRAPHIQL=true', async () => {
    const prod = await startTestApp({ NODE_ENV: 'production' });
    try {
      const page = await fetch(prod.app.url, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(404);
      expect(await page.text()).toMatch(/IDE is disabled/);
      expect((await fetch(prod.app.url.replace('/graphql', '/graphiql/ide.js'))).status).toBe(404);
    } finally {
      await prod.close();
    }
  });
});

(haveChromium ? describe : describe.skip)('GraphiQL in Chromium', () => {
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'graphiql-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    const origin = new URL(t.app.url).origin;
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(origin) && !url.startsWith(origin.replace(/^http/, 'ws')) && !/^(data|blob):/.test(url)) foreignRequests.push(url);
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) pageErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    });
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  /** Replaces the whole text of a Monaco editor, as a user pasting into it would. */
  async function setEditor(selector: string, text: string): Promise<void> {
    const editor = page.locator(`${selector} .monaco-editor`).first();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
    // Monaco auto-closes brackets as text arrives; drop whatever it added after the cursor.
    await page.keyboard.press('ControlOrMeta+Shift+End');
    await page.keyboard.press('Delete');
    await page.keyboard.press('ControlOrMeta+Home');
  }

  /** Waits until the result pane shows `text`. */
  async function resultShows(text: string, timeout = 15_000): Promise<void> {
    await page
      .waitForFunction(
      (expected) => {
        // Runs in the page (this project's tsconfig has no DOM types).
        const pane = (globalThis as unknown as BrowserGlobals).document.querySelector('.graphiql-response');
        return (pane?.textContent ?? '').replace(/\u00a0/g, ' ').includes(expected);
      },
        text,
        { timeout },
      )
      .catch(async (err: Error) => {
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql-failure.png') });
        const pane = await page.locator('.graphiql-response').innerText();
        throw new Error(`${err.message}\nexpected the result pane to show ${text}; it shows:\n${pane}\n(screenshot: test-artifacts/graphiql-failure.png)`);
      });
  }

  /** Types a named operation, waits for GraphiQL to pick it up (the tab takes its name), runs it. */
  async function run(operationName: string, document: string): Promise<void> {
    await setEditor('.graphiql-query-editor', document);
    await page.locator('.graphiql-tab', { hasText: operationName }).waitFor();
    await page.getByRole('button', { name: /prettify query/i }).click();
    await page.locator('button.graphiql-execute-button').click();
  }

  it('runs a query with the bearer token from the header editor, then receives a subscription event', async () => {
    const recipient: TestUser = await t.makeUser();
    const sender: TestUser = await t.makeUser();

    await page.goto(t.app.url);
    await page.locator('.graphiql-query-editor .monaco-editor').first().waitFor({ timeout: 30_000 });

    // The schema loaded: the documentation explorer lists the root types.
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await page.locator('.graphiql-doc-explorer', { hasText: 'Subscription' }).waitFor();
    await page.getByRole('button', { name: 'Hide Documentation Explorer' }).click();

    // The header editor is open by default; paste the recipient's token there.
    await page.locator('.graphiql-editor-tools button', { hasText: 'Headers' }).click();
    await setEditor('.graphiql-editor-tool .graphiql-editor:not(.hidden)', JSON.stringify({ Authorization: `Bearer ${recipient.token}` }));

    await run('WhoAmI', 'query WhoAmI { me { username } }');
    await resultShows(`"username": "${recipient.username}"`);

    // A subscription over graphql-ws, authenticated with the same header.
    const listeners = t.app.services.events.listenerCount();
    await run('Requests', 'subscription Requests { messageRequestReceived { cursor request { id text sender { username } } } }');
    // graphql-ws has no "subscribed" acknowledgement: wait until the server holds the stream.
    const deadline = Date.now() + 15_000;
    while (t.app.services.events.listenerCount() <= listeners) {
      if (Date.now() > deadline) throw new Error(`the subscription did not start; result pane: ${await page.locator('.graphiql-response').innerText()}`);
      await new Promise((r) => setTimeout(r, 20));
    }

    // Another client sends the recipient a request over HTTP.
    const text = `hello-from-the-browser-test-${Date.now().toString(36)}`;
    const sent = await t.ok<{ sendMessageRequest: { id: string } }, unknown>(
      'mutation ($input: SendMessageRequestInput!) { sendMessageRequest(input: $input) { id } }',
      { input: { recipientId: recipient.id, text } },
      sender.token,
    );
    await resultShows(`"id": "${sent.sendMessageRequest.id}"`);
    await resultShows(`"text": "${text}"`);
    await resultShows(`"username": "${sender.username}"`);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql.png') });

    // Everything came from this server: no CDN, no other host. No script errors.
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import { introspectionFromSchema, type GraphQLSchema } from 'graphql';
import type { Config } from '../config';
import { projectRoot } from '../lib/project-root';

/**
 * GraphiQL 5 at GET /graphql for browsers (requests that prefer text/html), built from the
 * project's own npm packages: no CDN. The browser code below is bundled with esbuild into
 * dist/graphiql/ by `npm run build` (this file run as a script). Where that bundle is
 * missing or out of date (tests, `npm run typecheck` builds) and esbuild is installed,
 * it is bundled in memory on the first visit instead.
 *
 * Queries and mutations go over HTTP POST /graphql with the headers typed in the header
 * editor; subscriptions go over graphql-ws on the same URL, with the typed Authorization
 * header passed as connectionParams.authorization (what the server reads). The schema for
 * autocompletion and docs comes from /graphiql/introspection.json when introspection is on.
 */

/** Where the IDE's static files are served from (the page itself is GET /graphql). */
export const GRAPHIQL_ASSET_PATH = '/graphiql';

const DEFAULT_QUERY = `# Queries and mutations run over HTTP; subscriptions over WebSocket (graphql-ws).
#
# Most operations need a bearer token: run signUp or logIn, then open "Headers"
# below and paste {"Authorization": "Bearer <token>"}. Subscriptions use the same
# header as the socket's connectionParams.authorization.

query Me {
  me {
    id
    username
    displayName
  }
}
`;

/** The browser entry point, bundled by esbuild (no JSX, so no JSX settings needed). */
const ENTRY = `
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import { getOperationAST } from 'graphql';
import 'graphiql/style.css';

const ASSETS = ${JSON.stringify(GRAPHIQL_ASSET_PATH)};

// Monaco runs its language services in web workers, bundled next to this file.
globalThis.MonacoEnvironment = {
  getWorker(_id, label) {
    const name = label === 'json' ? 'json' : label === 'graphql' ? 'graphql' : 'editor';
    return new Worker(ASSETS + '/' + name + '.worker.js', { name: label });
  },
};

const httpUrl = new URL('/graphql', location.href).href;
const wsUrl = httpUrl.replace(/^http/, 'ws');
const httpFetcher = createGraphiQLFetcher({ url: httpUrl, enableIncrementalDelivery: false });

function authorizationOf(headers) {
  for (const [name, value] of Object.entries(headers || {})) {
    if (name.toLowerCase() === 'authorization' && value != null) return String(value);
  }
  return undefined;
}

// One lazy graphql-ws client per token typed in the header editor.
const sockets = new Map();
function socketFor(authorization) {
  const key = authorization || '';
  let client = sockets.get(key);
  if (!client) {
    client = createClient({
      url: wsUrl,
      lazy: true,
      connectionParams: authorization ? { authorization } : {},
      retryAttempts: 5,
      // 4403: missing or bad token. Retrying will not help; show it.
      shouldRetry: (e) => !(e && e.code === 4403),
    });
    sockets.set(key, client);
  }
  return client;
}

function socketError(e) {
  if (e && typeof e.code === 'number' && 'reason' in e) {
    const hint = e.code === 4403 ? ' - put a valid {"Authorization": "Bearer <token>"} in Headers' : '';
    return new Error('WebSocket closed: ' + e.code + ' ' + (e.reason || '') + hint);
  }
  return e instanceof Error ? e : new Error(JSON.stringify(e));
}

async function* subscribe(client, params) {
  try {
    for await (const result of client.iterate(params)) yield result;
  } catch (e) {
    throw socketError(e);
  }
}

// GraphiQL's introspection query is deeper than the server's depth limit allows, so the
// IDE loads the schema the server precomputes (only where introspection is on).
async function introspect(params, opts) {
  const res = await fetch(ASSETS + '/introspection.json', { headers: { accept: 'application/json' } });
  if (res.ok) return res.json();
  return httpFetcher(params, opts);
}

function fetcher(params, opts) {
  if (params.operationName === 'IntrospectionQuery') return introspect(params, opts);
  const op = opts && opts.documentAST ? getOperationAST(opts.documentAST, params.operationName || undefined) : null;
  if (op && op.operation === 'subscription') {
    return subscribe(socketFor(authorizationOf(opts.headers)), params);
  }
  return httpFetcher(params, opts);
}

const initialQuery = new URLSearchParams(location.search).get('query') || undefined;

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, {
    fetcher,
    initialQuery,
    defaultQuery: ${JSON.stringify(DEFAULT_QUERY)},
    defaultHeaders: '{\\n  "Authorization": "Bearer "\\n}',
    defaultEditorToolsVisibility: 'headers',
  }),
);
`;

/** Bump when the build settings below change, so old bundles are rebuilt. */
const BUILD_VERSION = 1;
const BUNDLED_PACKAGES = ['esbuild', 'graphiql', '@graphiql/react', '@graphiql/toolkit', 'react', 'react-dom', 'monaco-editor', 'monaco-graphql', 'graphql-ws', 'graphql'];

interface Asset {
  body: Buffer;
  type: string;
}
type Assets = Map<string, Asset>;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
const typeOf = (file: string) => TYPES[path.extname(file)] ?? 'application/octet-stream';

function distDir(): string {
  return path.join(projectRoot(), 'dist', 'graphiql');
}

/**
 * Identifies the bundle's inputs: this entry, the build settings and the installed
 * versions of what goes into it. Null when those packages are not installed (a
 * production image without devDependencies): then the prebuilt bundle is used as is.
 */
function currentStamp(): string | null {
  const hash = createHash('sha256').update(ENTRY).update(String(BUILD_VERSION));
  for (const pkg of BUNDLED_PACKAGES) {
    try {
      const file = require.resolve(`${pkg}/package.json`, { paths: [projectRoot()] });
      hash.update(`${pkg}@${(JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version}`);
    } catch {
      return null;
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/** Bundles the IDE with esbuild (a devDependency) into memory. */
export async function bundleGraphiQL(): Promise<Assets> {
  const root = projectRoot();
  // A devDependency: required only when bundling, never by a server using a prebuilt bundle.
  const esbuild = require('esbuild') as typeof import('esbuild');
  const common = {
    bundle: true,
    minify: true,
    write: false,
    outdir: '/graphiql',
    target: ['es2022'],
    platform: 'browser' as const,
    legalComments: 'none' as const,
    logLevel: 'silent' as const,
    define: { 'process.env.NODE_ENV': '"production"' },
  };
  const [page, workers] = await Promise.all([
    esbuild.build({
      ...common,
      stdin: { contents: ENTRY, resolveDir: root, sourcefile: 'graphiql-entry.js', loader: 'js' },
      entryNames: 'ide',
      format: 'iife',
      loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
      assetNames: '[name]-[hash]',
      publicPath: GRAPHIQL_ASSET_PATH,
    }),
    esbuild.build({
      ...common,
      absWorkingDir: root,
      entryPoints: {
        'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
        'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
        'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
      },
      format: 'iife',
    }),
  ]);
  const assets: Assets = new Map();
  for (const file of [...(page.outputFiles ?? []), ...(workers.outputFiles ?? [])]) {
    const name = path.basename(file.path);
    assets.set(name, { body: Buffer.from(file.contents), type: typeOf(name) });
  }
  if (!assets.has('ide.js') || !assets.has('ide.css')) throw new Error('GraphiQL bundle is incomplete');
  return assets;
}

/** `npm run build`: writes the bundle to dist/graphiql/ unless it is already current. */
export async function writeGraphiQL(outDir = distDir()): Promise<'built' | 'current'> {
  const stamp = currentStamp();
  if (stamp && readManifest(outDir)?.stamp === stamp) return 'current';
  const assets = await bundleGraphiQL();
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [name, asset] of assets) writeFileSync(path.join(tmp, name), asset.body);
  writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify({ stamp, files: [...assets.keys()] }, null, 2) + '\n');
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
  return 'built';
}

function readManifest(dir: string): { stamp: string | null; files: string[] } | null {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return null;
  }
}

function readBuilt(dir: string): Assets | null {
  const manifest = readManifest(dir);
  if (!manifest) return null;
  const stamp = currentStamp();
  if (stamp && manifest.stamp !== stamp) return null;
  const assets: Assets = new Map();
  for (const name of manifest.files) {
    const file = path.join(dir, name);
    if (!existsSync(file)) return null;
    assets.set(name, { body: readFileSync(file), type: typeOf(name) });
  }
  return assets;
}

let loading: Promise<Assets> | undefined;
/** The prebuilt bundle if current, else one bundled in memory (once per process). */
function loadAssets(): Promise<Assets> {
  loading ??= Promise.resolve()
    .then(() => readBuilt(distDir()) ?? bundleGraphiQL())
    .catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
  return loading;
}

const page = () => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>GraphiQL · message requests</title>
<link rel="stylesheet" href="${GRAPHIQL_ASSET_PATH}/ide.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="${GRAPHIQL_ASSET_PATH}/ide.js"></script>
</body>
</html>
`;

// Everything from this origin; Monaco needs inline styles; data: fonts are in GraphiQL's CSS.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** True for a browser page load: text/html preferred over JSON. */
function wantsHtml(req: express.Request): boolean {
  return req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
}

/**
 * Mount before the Apollo middleware on /graphql. Handles only GET (and HEAD) requests
 * that prefer text/html, plus its own static files; everything else falls through.
 * With the IDE off, a browser gets a plain 404 rather than any landing page.
 */
export function graphiqlRouter(config: Pick<Config, 'graphiql' | 'introspection'>, schema: GraphQLSchema): express.Router {
  const router = express.Router();
  let introspection: string | undefined;
  router.get(`${GRAPHIQL_ASSET_PATH}/introspection.json`, (_req, res, next) => {
    if (!config.graphiql || !config.introspection) return next();
    introspection ??= JSON.stringify({ data: introspectionFromSchema(schema) });
    res.setHeader('Cache-Control', 'no-cache');
    res.type('json').send(introspection);
  });
  router.get('/graphql', (req, res, next) => {
    if (!wantsHtml(req)) return next();
    res.setHeader('Vary', 'Accept');
    res.setHeader('Cache-Control', 'no-store');
    if (!config.graphiql) {
      res.status(404).type('text/plain').send('The GraphQL IDE is disabled here (set GRAPHIQL=true to enable it). POST GraphQL requests to this URL.\n');
      return;
    }
    void loadAssets().catch(() => undefined); // start bundling while the page loads
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('html').send(page());
  });
  router.get(`${GRAPHIQL_ASSET_PATH}/:file`, async (req, res, next) => {
    if (!config.graphiql) return next();
    let assets: Assets;
    try {
      assets = await loadAssets();
    } catch (err) {
      res.status(503).type('text/plain').send(`GraphiQL is not built: run \`npm run build\` (${(err as Error).message})\n`);
      return;
    }
    const asset = assets.get(req.params.file);
    if (!asset) return next();
    res.setHeader('Content-Type', asset.type);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-cache');
    res.send(asset.body);
  });
  return router;
}

if (require.main === module) {
  writeGraphiQL()
    .then((result) => console.log(result === 'built' ? `GraphiQL bundled into ${path.relative(process.cwd(), distDir())}/` : 'GraphiQL bundle is up to date'))
    .catch((err: unknown) => {
      console.error('GraphiQL bundle failed:', err);
      process.exit(1);
    });
}

// The static server: MIME types (application/wasm for WASM), the cross-origin-isolation headers on every
// response, 404 for missing files, and no way out of the served folder; and as a plain static host (the deploy
// tests): under a sub-path, without the isolation headers.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../scripts/serve.mjs';

/** Raw GET (no URL normalisation, unlike fetch) so that path-traversal attempts reach the server as written. */
function get(
  url: string,
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('scripts/serve.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'web-serve-'));
  let server: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    mkdirSync(join(dir, 'site', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'site', 'index.html'), '<!doctype html><p>hi');
    writeFileSync(join(dir, 'site', 'core.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    writeFileSync(join(dir, 'site', 'main.js'), 'export {}');
    writeFileSync(join(dir, 'site', 'sub', 'model.pth'), 'PK');
    writeFileSync(join(dir, 'secret.txt'), 'outside');
    server = await serve(join(dir, 'site'), { port: 0 });
  });
  afterAll(() => new Promise<void>((r) => server.server.close(() => r())));

  it('sends the right MIME types and the isolation headers', async () => {
    const cases: Array<[string, string]> = [
      ['/', 'text/html; charset=utf-8'],
      ['/core.wasm', 'application/wasm'],
      ['/main.js', 'text/javascript; charset=utf-8'],
      ['/sub/model.pth', 'application/octet-stream'],
    ];
    for (const [path, type] of cases) {
      const r = await get(server.url, path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type'], path).toBe(type);
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
    }
    expect((await get(server.url, '/')).body).toContain('<p>hi');
  });

  it('answers 404 for missing files and never serves a file outside the folder', async () => {
    expect((await get(server.url, '/nope.js')).status).toBe(404);
    // URL parsing resolves literal dot segments inside the folder (404); encoded ones are caught after decoding (403).
    // Either way the file next to the folder is never sent.
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/sub/..%2f..%2fsecret.txt', '/..%5c..%5csecret.txt']) {
      const r = await get(server.url, path);
      expect([403, 404], path).toContain(r.status);
      expect(r.body, path).not.toContain('outside');
    }
    expect((await get(server.url, '/sub/..%2f..%2fsecret.txt')).status).toBe(403);
  });

  it('serves the folder under a sub-path without the isolation headers, as a plain static host', async () => {
    writeFileSync(join(dir, 'site', 'manifest.webmanifest'), '{}');
    const plain = await serve(join(dir, 'site'), { port: 0, prefix: '/some/sub/path/', isolation: false });
    try {
      expect(plain.url).toMatch(/\/some\/sub\/path\/$/);
      const page = await get(plain.url, '/some/sub/path/');
      expect(page.status).toBe(200);
      expect(page.body).toContain('<p>hi');
      expect(page.headers['cross-origin-opener-policy']).toBeUndefined();
      expect(page.headers['cross-origin-embedder-policy']).toBeUndefined();
      expect((await get(plain.url, '/some/sub/path/core.wasm')).headers['content-type']).toBe('application/wasm');
      expect((await get(plain.url, '/some/sub/path/manifest.webmanifest')).headers['content-type']).toBe(
        'application/manifest+json; charset=utf-8',
      );
      // Outside the prefix nothing is served; the prefix without its slash redirects to it, as static hosts do.
      expect((await get(plain.url, '/main.js')).status).toBe(404);
      expect((await get(plain.url, '/some/sub/main.js')).status).toBe(404);
      const bare = await get(plain.url, '/some/sub/path');
      expect([bare.status, bare.headers.location]).toEqual([301, '/some/sub/path/']);
      expect((await get(plain.url, '/some/sub/path/../../../secret.txt')).body).not.toContain('outside');
    } finally {
      await new Promise<void>((r) => plain.server.close(() => r()));
    }
  });

  it('falls back to a free port when the asked one is taken', async () => {
    const port = Number(new URL(server.url).port);
    const other = await serve(join(dir, 'site'), { port });
    try {
      expect(Number(new URL(other.url).port)).not.toBe(port);
      expect((await get(other.url, '/')).status).toBe(200);
    } finally {
      await new Promise<void>((r) => other.server.close(() => r()));
    }
  });
});

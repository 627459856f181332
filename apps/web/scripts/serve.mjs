// A tiny static server for dist/: correct MIME types (application/wasm included), no caching, and the
// cross-origin-isolation headers (COOP same-origin + COEP require-corp) that SharedArrayBuffer/threads need.
// The tests also run it as a plain static host would: under a sub-path, and without those headers.
// Usage: node scripts/serve.mjs [dir]   (PORT env or 5173; falls back to a free port). Prints the address.
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.pth': 'application/octet-stream',
  '.gz': 'application/gzip',
  '.txt': 'text/plain; charset=utf-8',
};

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Starts serving `dir`; resolves with { server, url } once listening. port 0 picks a free port. `prefix` serves the
 * folder under that path ('/some/sub/path/'; anything else is a 404), `isolation: false` leaves out the COOP/COEP
 * headers, as most static hosts do.
 */
export function serve(dir, { port = 5173, host = '127.0.0.1', fallback = true, prefix = '/', isolation = true } = {}) {
  const base = resolve(dir);
  const headers = isolation ? ISOLATION : {};
  const send = (res, status, text) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(text);
  };
  const server = createServer(async (req, res) => {
    try {
      const full = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (!`${full}/`.startsWith(prefix)) return send(res, 404, 'not found');
      if (full !== '/' && `${full}/` === prefix) {
        res.writeHead(301, { Location: prefix, ...headers }); // as static hosts do: relative URLs need the slash
        return res.end();
      }
      const path = full.slice(prefix.length - 1);
      let file = normalize(join(base, path));
      if (file !== base && !file.startsWith(base + sep)) return send(res, 403, 'forbidden');
      let info = await stat(file).catch(() => null);
      if (info?.isDirectory()) {
        file = join(file, 'index.html');
        info = await stat(file).catch(() => null);
      }
      if (!info?.isFile()) return send(res, 404, 'not found');
      res.writeHead(200, {
        'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
        'Content-Length': info.size,
        'Cache-Control': 'no-cache',
        ...headers,
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    } catch (err) {
      send(res, 500, String(err));
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (err) => {
      if (fallback && err.code === 'EADDRINUSE') {
        server.listen(0, host); // the requested port is taken: any free one ('listening' still calls done)
      } else reject(err);
    });
    const done = () => {
      const { port: actual } = server.address();
      resolvePromise({ server, url: `http://${host}:${actual}${prefix}` });
    };
    server.once('listening', done);
    server.listen(port, host);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
  const port = process.env.PORT ? Number(process.env.PORT) : 5173;
  const { server, url } = await serve(dir, { port });
  console.log(`web: serving ${dir} at ${url}`);
  // Ctrl-C (or a kill) is how this server is meant to stop: close it and exit 0, so pnpm reports no failure.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.log('web: stopped');
      server.closeAllConnections?.();
      server.close(() => process.exit(0));
      setTimeout(() => process.exit(0), 1000).unref();
    });
  }
}

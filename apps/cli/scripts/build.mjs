// Bundles the CLI into one file, dist/mnist.js (ESM, shebang), with the default model embedded (binary loader)
// and the WASM core inlined; only the native PNG renderer (@resvg/resvg-js) stays an external import.
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// @resvg/resvg-js is native: not bundled. A static import of it would load it on every start (and fail
// if it is missing), so bundled code gets this stand-in that requires the real module on first use.
const lazyResvg = {
  name: 'lazy-resvg',
  setup(b) {
    b.onResolve({ filter: /^@resvg\/resvg-js$/ }, () => ({ path: 'lazy-resvg', namespace: 'lazy-resvg' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-resvg' }, () => ({
      contents: `
        import { createRequire } from 'node:module';
        import { InputError } from './src/errors.ts';
        let real;
        function load() {
          if (!real) {
            try { real = createRequire(import.meta.url)('@resvg/resvg-js'); }
            catch (e) {
              throw new InputError('PNG output needs the native package @resvg/resvg-js (' + e.message.split('\\n')[0] + '); use --format svg or run pnpm install [CLI_NO_PNG_RENDERER]', 'CLI_NO_PNG_RENDERER');
            }
          }
          return real;
        }
        export class Resvg { constructor(...args) { return new (load().Resvg)(...args); } }
      `,
      loader: 'js',
      resolveDir: root,
    }));
  },
};

await build({
  entryPoints: [`${root}src/main.ts`],
  outfile: `${root}dist/mnist.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  loader: { '.pth': 'binary' },
  define: { MNIST_CLI_VERSION: JSON.stringify(version) },
  // CommonJS dependencies (pngjs, jpeg-js) call require('zlib') & co: give the ESM bundle a real require.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __mnistCreateRequire } from 'node:module';\nconst require = __mnistCreateRequire(import.meta.url);",
  },
  plugins: [lazyResvg],
  legalComments: 'none',
  logLevel: 'warning',
});
// executable, so that a link to it on PATH (scripts/link.mjs) runs as `mnist`
chmodSync(`${root}dist/mnist.js`, 0o755);

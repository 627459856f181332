// Benchmark: load the default 784-512-10 float32 .pth (models/mnist_model.pth) in Node: median time of loadMlp and of
// its parts, beside baselines measured in the same run (copying the bytes, CRC-32 of them, and real PyTorch's
// torch.load when /usr/bin/python3 has torch), and the peak memory of one load in a fresh process.
// Run: pnpm --filter @mnist/loader bench   (compiles this file to build/bench, then runs it with node)
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { loadMlpSync, readPthSync } from '../src/index.js';
import { crc32 } from '../src/zip.js';

const here = dirname(fileURLToPath(import.meta.url));
function findRepo(): string {
  let d = here;
  for (let i = 0; i < 8; i++) {
    try {
      readFileSync(join(d, 'models', 'mnist_model.pth'));
      return d;
    } catch {
      d = resolve(d, '..');
    }
  }
  throw new Error('models/mnist_model.pth not found above ' + here);
}
const MODEL = process.env.MNIST_MODEL ?? join(findRepo(), 'models', 'mnist_model.pth');

function stats(times: number[]) {
  const s = [...times].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p10: q(0.1), p90: q(0.9) };
}

function time(fn: () => unknown, iterations: number, warmup = 20): ReturnType<typeof stats> {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return stats(t);
}

if (process.argv[2] === '--child-memory') {
  // A fresh process that reads the file and, with 'load', loads it once: the difference in peak RSS between the two
  // kinds of child is the peak memory of one load.
  const bytes = new Uint8Array(readFileSync(MODEL));
  const model = process.argv[3] === 'load' ? loadMlpSync(bytes) : null;
  const kept = model ? model.layers.reduce((s, l) => s + l.weight.byteLength + l.bias.byteLength, 0) : 0;
  console.log(
    JSON.stringify({
      file: bytes.length,
      maxRss: process.resourceUsage().maxRSS * 1024,
      kept,
      parameters: model?.parameters ?? 0,
    }),
  );
} else {
  const bytes = new Uint8Array(readFileSync(MODEL));
  const n = 200;
  const rows: [string, ReturnType<typeof stats>][] = [];
  rows.push(['loadMlp (readPth + toMlp)', time(() => loadMlpSync(bytes), n)]);
  rows.push(['readPth', time(() => readPthSync(bytes), n)]);
  rows.push(['baseline: copy the file bytes', time(() => bytes.slice(), n)]);
  rows.push(['baseline: CRC-32 of the file', time(() => crc32(bytes), n)]);
  const py = spawnSync(
    process.env.PYTHON_TORCH ?? '/usr/bin/python3',
    [
      '-c',
      `
import io, time, statistics, torch
data = open(${JSON.stringify(MODEL)}, 'rb').read()
def run():
    t0 = time.perf_counter(); torch.load(io.BytesIO(data), weights_only=True); return (time.perf_counter() - t0) * 1000
for _ in range(10): run()
t = sorted(run() for _ in range(100))
print(t[50], t[10], t[90])
`,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (py.status === 0) {
    const [median, p10, p90] = py.stdout.trim().split(/\s+/).map(Number);
    rows.push([`peer: PyTorch ${'torch.load(weights_only=True)'}`, { median, p10, p90 }]);
  } else {
    console.log('(PyTorch peer skipped: /usr/bin/python3 has no torch)');
  }
  const child = (mode: string) => {
    const runs = [0, 1, 2].map(() =>
      JSON.parse(
        spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child-memory', mode], {
          encoding: 'utf8',
          env: { ...process.env, MNIST_MODEL: MODEL },
        }).stdout,
      ),
    );
    return runs.sort((a, b) => a.maxRss - b.maxRss)[1]; // median of 3
  };
  const readOnly = child('read'),
    loaded = child('load');
  const mem = {
    parameters: loaded.parameters,
    peakRssGrowth: loaded.maxRss - readOnly.maxRss,
    arrayBuffersKept: loaded.kept,
  };
  console.log(
    `\n@mnist/loader: load ${MODEL.replace(/.*\/models\//, 'models/')} (${(bytes.length / 1e6).toFixed(2)} MB, ${mem.parameters} parameters), Node ${process.version}, ${n} runs\n`,
  );
  console.log('| what | median ms | p10 ms | p90 ms |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, s] of rows)
    console.log(`| ${name} | ${s.median.toFixed(3)} | ${s.p10.toFixed(3)} | ${s.p90.toFixed(3)} |`);
  console.log(
    `\npeak RSS of a process that loads the file minus one that only reads it: ${(mem.peakRssGrowth / 1e6).toFixed(2)} MB (${(mem.peakRssGrowth / bytes.length).toFixed(2)}x the file); the model's Float32Arrays: ${(mem.arrayBuffersKept / 1e6).toFixed(2)} MB`,
  );
  const target = rows[0][1].median <= 10;
  console.log(`target: median <= 10 ms -> ${target ? 'met' : 'NOT met'}`);
}

// The bench's third of "one seed gives bit-identical weights in the CLI, the web app and the bench": the bench's
// training function (trainTimed, its timer as train()'s callbacks) ends an epoch with exactly the weights of train()
// called directly with the same configuration, on 2 threads against 1, with and without augmentation; and the loop
// that feeds the peers (trainPeer) hands out train()'s very batches: driven by the library's own trainBatch, it
// ends with the same bits too.
import { AUGMENT_PRESETS, Mlp, train, type LayerParams, type TrainConfig } from '@mnist/core-wasm';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../src/mnist.js';
import { benchConfig, epochOrder, trainPeer, trainTimed } from '../src/training.js';

const N = 3000; // 46 full batches of 64 and a last one of 56
const mnist = loadMnist('train');
const data = { images: mnist.x.subarray(0, N * 784), labels: mnist.labels.subarray(0, N), count: N };
const SIZES = [784, 512, 10];

const weights = (net: Mlp) => Array.from({ length: net.layerCount }, (_, i) => net.getLayer(i));

/** Index of the first element whose bits differ, or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function expectSameWeights(a: LayerParams[], b: LayerParams[]): void {
  expect(a).toHaveLength(b.length);
  a.forEach((L, i) => {
    expect(firstDifference(L.weight, b[i].weight), `layer ${i} weight`).toBe(-1);
    expect(firstDifference(L.bias, b[i].bias), `layer ${i} bias`).toBe(-1);
  });
}

async function direct(init: LayerParams[], config: TrainConfig): Promise<LayerParams[]> {
  const net = await Mlp.fromLayers(init, { threads: 1 });
  try {
    const r = await train(net, data, config);
    expect(r.stopped).toBe('done');
    return weights(net);
  } finally {
    net.dispose();
  }
}

describe('bench training', async () => {
  const start = await Mlp.create(SIZES, { seed: 1, threads: 1 });
  const init = weights(start);
  start.dispose();

  it.each([
    ['SGD with momentum (the default)', {}],
    ['Adam + elastic augmentation', { optimizer: { optimizer: 'adam', lr: 0.001 }, augment: AUGMENT_PRESETS.elastic }],
  ] as [string, Partial<TrainConfig>][])('trainTimed, %s: the weights of train() bit for bit', async (_, changes) => {
    const config = benchConfig(changes);
    const net = await Mlp.fromLayers(init, { threads: 2 });
    try {
      const test = {
        x: mnist.x.subarray(N * 784, (N + 500) * 784),
        labels: mnist.labels.subarray(N, N + 500),
        count: 500,
      };
      const run = await trainTimed(net, data, config, test);
      expect(run.steps).toBe(Math.ceil(N / 64));
      expect(run.epochSeconds).toHaveLength(1);
      expect(run.epochSeconds[0]).toBeGreaterThan(0);
      expect(run.firstLosses).toHaveLength(20);
      expect(run.accuracy[0]).toBeGreaterThan(0.6);
      expectSameWeights(weights(net), await direct(init, config));
    } finally {
      net.dispose();
    }
  });

  it("trainPeer feeds train()'s batches: with the library's trainBatch it ends with train()'s weights", async () => {
    const config = benchConfig();
    const net = await Mlp.fromLayers(init, { threads: 1 });
    const sizes: number[] = [];
    try {
      const run = trainPeer(
        {
          trainBatch: (x, labels, batch, step) => {
            sizes.push(batch);
            // dropoutSeed as train() passes it (no dropout here, so any seed gives the same bits)
            return net.trainBatch(x, labels, batch, { ...step, dropoutSeed: 0 });
          },
        },
        data,
        config,
      );
      expect(run.steps).toBe(47);
      expect(sizes.at(-1)).toBe(N - 46 * 64);
      expectSameWeights(weights(net), await direct(init, config));
    } finally {
      net.dispose();
    }
  });

  it("epochOrder is each epoch's own order: two epochs differ, the same epoch repeats", () => {
    const a = epochOrder(N, 1, 1);
    expect(Array.from(epochOrder(N, 1, 1))).toEqual(Array.from(a));
    expect(Array.from(epochOrder(N, 1, 2))).not.toEqual(Array.from(a));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i));
  });
});

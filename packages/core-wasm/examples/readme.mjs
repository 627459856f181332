// The README example of @mnist/core-wasm, runnable: `pnpm --filter @mnist/core-wasm build && node packages/core-wasm/examples/readme.mjs`.
import { Mlp, CoreError } from '@mnist/core-wasm';

const net = await Mlp.create([784, 512, 10], { seed: 1 }); // PyTorch nn.Linear default init, seeded
const x = new Float32Array(2 * 784).fill(0.5); // 2 images, row-major, scaled to [0, 1]
const labels = new Uint8Array([3, 7]);

console.log('forward', net.forward(x, 2));
console.log('probabilities', net.probabilities(x, 2));
console.log('predict', net.predict(x, 2));
console.log('trainBatch', net.trainBatch(x, labels, 2, { lr: 0.1, momentum: 0.9 }));
console.log('evaluate', net.evaluate(x, labels, 2));
console.log('trace', net.trace(x.subarray(0, 784)));
const { weight, bias } = net.getLayer(0); // copies, weight is 512 x 784
net.setLayer(0, weight, bias);
try {
  net.forward(x, 3);
} catch (e) {
  if (e instanceof CoreError) console.log(e.code, e.message);
} // CORE_BAD_SHAPE
net.dispose();

// Writes the Keras networks KerasImporterTest imports, with what they compute on a fixed input.
//
//   cd lib-compression/src/test/resources/keras && npm install && node make_fixtures.mjs
//
// TensorFlow.js's Layers API is an implementation of Keras 2: it builds each network (channels last,
// as Keras does), gives its Keras topology (model_config) and computes the reference outputs. The
// file is Keras's HDF5 layout: model_config, keras_version and backend on the root, and under
// model_weights a group per layer holding its weights as <layer>/<weight>:0. Weights and inputs come
// from a seeded generator, so the files are the same on every run; nothing here is trained.
import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm/node';
import fs from 'fs';

await h5wasm.ready;
let state = 20261207;
const random = () => { // a linear congruential generator: the same numbers on every machine
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 4294967296;
};
const uniform = (shape, low, high) =>
  tf.tensor(Array.from({length: shape.reduce((a, b) => a * b, 1)}, () => low + (high - low) * random()), shape);

const L = tf.layers;
const convBn = (x, name, filters, kernelSize, strides = 1) => {
  x = L.conv2d({filters, kernelSize, strides, padding: 'same', useBias: false, name}).apply(x);
  return L.batchNormalization({name: name + '_bn'}).apply(x);
};

/** conv, batch norm and ReLU layers with a residual sum, max pooling, a strided convolution, logits. */
function residual() {
  const image = tf.input({shape: [28, 28, 1], name: 'image'});
  const stem = L.reLU({name: 'stem_relu'}).apply(convBn(image, 'stem', 8, 3));
  let x = L.reLU({name: 'block_relu'}).apply(convBn(stem, 'block_conv1', 8, 3));
  x = convBn(x, 'block_conv2', 8, 3);
  x = L.activation({activation: 'relu', name: 'block_out'}).apply(L.add({name: 'block_add'}).apply([stem, x]));
  x = L.maxPooling2d({poolSize: 2, name: 'pool'}).apply(x);
  x = L.reLU({name: 'down_relu'}).apply(convBn(x, 'down', 16, 3, 2));
  x = L.globalAveragePooling2d({name: 'gap'}).apply(x);
  const logits = L.dense({units: 10, name: 'logits'}).apply(x);
  return tf.model({inputs: image, outputs: logits, name: 'residual'});
}

/** MobileNet-like: strided stem, depthwise and pointwise convolutions with ReLU6, dropout, softmax. */
function depthwise() {
  const image = tf.input({shape: [28, 28, 1], name: 'image'});
  let x = L.activation({activation: 'relu6', name: 'stem_relu6'}).apply(convBn(image, 'stem', 8, 3, 2));
  x = L.depthwiseConv2d({kernelSize: 3, padding: 'same', useBias: false, name: 'dw'}).apply(x);
  x = L.activation({activation: 'relu6', name: 'dw_relu6'}).apply(L.batchNormalization({name: 'dw_bn'}).apply(x));
  x = L.leakyReLU({alpha: 0.1, name: 'pw_leaky'}).apply(convBn(x, 'pw', 16, 1));
  x = L.globalAveragePooling2d({name: 'gap'}).apply(x);
  x = L.dropout({rate: 0.2, name: 'dropout'}).apply(x);
  const probabilities = L.dense({units: 10, activation: 'softmax', name: 'classifier'}).apply(x);
  return tf.model({inputs: image, outputs: probabilities, name: 'depthwise'});
}

/** Two branches concatenated along channels, average pooling, a flattening before two dense layers. */
function concat() {
  const image = tf.input({shape: [28, 28, 1], name: 'image'});
  const stem = L.conv2d({filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'stem'})
      .apply(image);
  const a = L.conv2d({filters: 4, kernelSize: 1, activation: 'relu', name: 'branch_a'}).apply(stem);
  const b = L.reLU({name: 'branch_b_relu'}).apply(convBn(stem, 'branch_b', 6, 3));
  let x = L.concatenate({name: 'concat'}).apply([a, b]);
  x = L.averagePooling2d({poolSize: 2, name: 'pool'}).apply(x);
  x = L.flatten({name: 'flatten'}).apply(x);
  x = L.dense({units: 16, activation: 'sigmoid', name: 'hidden'}).apply(x);
  const probabilities = L.dense({units: 10, activation: 'softmax', name: 'classifier'}).apply(x);
  return tf.model({inputs: image, outputs: probabilities, name: 'concat'});
}

/** A Sequential model, as most Keras code writes small networks: the flattening sits between layers. */
function sequential() {
  return tf.sequential({name: 'sequential', layers: [
    L.conv2d({inputShape: [28, 28, 1], filters: 6, kernelSize: 3, activation: 'relu', name: 'conv1'}),
    L.maxPooling2d({poolSize: 2, name: 'pool1'}),
    L.conv2d({filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'conv2'}),
    L.batchNormalization({name: 'conv2_bn'}),
    L.reLU({name: 'conv2_relu'}),
    L.maxPooling2d({poolSize: 2, name: 'pool2'}),
    L.flatten({name: 'flatten'}),
    L.dropout({rate: 0.5, name: 'dropout'}),
    L.dense({units: 10, activation: 'softmax', name: 'classifier'}),
  ]});
}

/** A global max pooling, which the importer does not convert: its message names the layer. */
function unsupported() {
  const image = tf.input({shape: [28, 28, 1], name: 'image'});
  let x = L.conv2d({filters: 4, kernelSize: 3, name: 'conv'}).apply(image);
  x = L.globalMaxPooling2d({name: 'global_max'}).apply(x);
  const probabilities = L.dense({units: 10, activation: 'softmax', name: 'classifier'}).apply(x);
  return tf.model({inputs: image, outputs: probabilities, name: 'unsupported'});
}

/** A batch norm over a flattened map, which Keras normalizes per feature: refused, not misread. */
function flatBatchNorm() {
  return tf.sequential({name: 'flat_batch_norm', layers: [
    L.conv2d({inputShape: [28, 28, 1], filters: 2, kernelSize: 3, strides: 4, name: 'conv'}),
    L.flatten({name: 'flatten'}),
    L.batchNormalization({name: 'flat_bn'}),
    L.dense({units: 10, activation: 'softmax', name: 'classifier'}),
  ]});
}

/** A softmax before the last dense layer: only a classifier may end in one, so it is refused. */
function softmaxInside() {
  return tf.sequential({name: 'softmax_inside', layers: [
    L.conv2d({inputShape: [28, 28, 1], filters: 2, kernelSize: 3, name: 'conv'}),
    L.globalAveragePooling2d({name: 'gap'}),
    L.dense({units: 6, activation: 'softmax', name: 'hidden'}),
    L.dense({units: 10, activation: 'softmax', name: 'classifier'}),
  ]});
}

function write(model, file) {
  for (const layer of model.layers) {
    // weights away from their initial values, batch norm statistics away from 0 and 1, so each matters
    layer.setWeights(layer.weights.map(w => w.originalName.endsWith('/moving_variance')
        ? uniform(w.shape, 0.5, 1.5) : uniform(w.shape, -0.5, 0.5)));
  }
  const topology = model.toJSON(null, false);
  // tfjs-layers writes the Keras 2 format (importers read the major version from the first digit) and
  // computes as Keras's TensorFlow backend does (channels last), the backend a Keras file then names
  topology.keras_version = `2 (${topology.keras_version})`;
  topology.backend = 'tensorflow';
  const h5 = new h5wasm.File(file, 'w');
  h5.create_attribute('keras_version', topology.keras_version);
  h5.create_attribute('backend', topology.backend);
  h5.create_attribute('model_config', JSON.stringify(topology));
  const weights = h5.create_group('model_weights');
  weights.create_attribute('layer_names', model.layers.map(l => l.name));
  for (const layer of model.layers) {
    const group = weights.create_group(layer.name);
    const names = [];
    if (layer.weights.length > 0) {
      const own = group.create_group(layer.name);
      for (const w of layer.weights) {
        const name = w.originalName.split('/').pop() + ':0';
        names.push(layer.name + '/' + name);
        own.create_dataset({name, data: w.read().dataSync(), shape: w.shape, dtype: '<f'});
      }
    }
    group.create_attribute('weight_names', names);
  }
  h5.close();
}

for (const [name, build] of [['residual', residual], ['depthwise', depthwise], ['concat', concat],
    ['sequential', sequential], ['unsupported', unsupported], ['flat-batch-norm', flatBatchNorm],
    ['softmax-inside', softmaxInside]]) {
  const model = build();
  write(model, `tfjs-${name}.h5`);
  const input = uniform([3, 28, 28, 1], 0, 1);
  const output = model.predict(input);
  fs.writeFileSync(`tfjs-${name}.json`, JSON.stringify({
    input: {shape: input.shape, values: Array.from(input.dataSync())},
    output: {shape: output.shape, values: Array.from(output.dataSync())},
  }) + '\n');
  console.log(`tfjs-${name}.h5: ${model.layers.length} layers, ${model.countParams()} parameters`);
}

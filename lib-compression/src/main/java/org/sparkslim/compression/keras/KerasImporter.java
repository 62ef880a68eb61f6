package org.sparkslim.compression.keras;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.modelimport.keras.KerasModel;
import org.deeplearning4j.nn.modelimport.keras.KerasSequentialModel;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasModelBuilder;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasModelUtils;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ImportedLayers;
import org.sparkslim.compression.model.ImportedModel;
import org.sparkslim.compression.model.LayerKind;

/**
 * Reads a Keras model file (HDF5, as Keras 2 and {@code tf.keras} save it; a functional or a
 * Sequential model) with DL4J's own Keras importer, then rebuilds the network in this project's layout, as the ONNX importer writes it:
 * channels first (Keras computes channels last), each activation and batch norm a layer of its own,
 * and a softmax output layer for the classifier. Convolutions (plain and depthwise), batch norms,
 * activations (ReLU, ReLU6, leaky ReLU, sigmoid, softmax, linear), max and average pooling, global
 * average pooling, flattening before a dense layer, dense layers, additions, concatenation along
 * channels and dropout convert; anything else fails at once, naming the layer, its kind and the kinds
 * that convert. Weights are the file's, moved to channels-first order where a flattening reads them.
 */
public final class KerasImporter {
    /** What converts, as a message names it. */
    public static final String SUPPORTED = "Conv2D, DepthwiseConv2D, BatchNormalization, Activation and ReLU "
            + "(relu, relu6, leaky relu, sigmoid, softmax, linear), LeakyReLU, MaxPooling2D, AveragePooling2D, "
            + "GlobalAveragePooling2D, Flatten, Dense, Add, Concatenate (channels), Dropout";

    private final String source;
    private final ComputationGraph keras;
    /** Each Keras layer's output type, channels last or first as the file says. */
    private final Map<String, InputType> types;
    private final ComputationGraphConfiguration.GraphBuilder builder;
    private final String inputName;
    private final ImageShape input;
    /** The vertex of this network that holds each Keras layer's output. */
    private final Map<String, String> vertexOf = new HashMap<>();
    /** Keras layers whose output is a feature map flattened (by a Flatten layer): the map's type. */
    private final Map<String, InputType.InputTypeConvolutional> flattened = new HashMap<>();
    private final Map<String, Map<String, INDArray>> params = new LinkedHashMap<>();
    private final Map<String, String> denseInputs = new HashMap<>();
    private String dense;
    private boolean softmaxed;

    private KerasImporter(String source, ComputationGraph keras, Map<String, InputType> types) {
        this.source = source;
        this.keras = keras;
        this.types = types;
        List<String> inputs = keras.getConfiguration().getNetworkInputs();
        if (inputs.size() != 1 || !(types.get(inputs.get(0)) instanceof InputType.InputTypeConvolutional image)) {
            throw new IllegalArgumentException(source + ": an image classifier has one image input; this model has "
                    + inputs.stream().map(i -> i + " " + types.get(i)).toList());
        }
        inputName = inputs.get(0);
        input = new ImageShape((int) image.getChannels(), (int) image.getHeight(), (int) image.getWidth());
        builder = ImportedLayers.graph(inputName, input);
        vertexOf.put(inputName, inputName);
    }

    /** Reads the Keras HDF5 file at {@code path}; {@code source} names it in messages. */
    public static ImportedModel read(Path path, String source) {
        try {
            KerasModelBuilder file = new KerasModel().modelBuilder().modelHdf5Filename(path.toString())
                    .enforceTrainingConfig(false);
            Object kind = KerasModelUtils.parseModelConfig(file.getModelJson(), null).get("class_name");
            if ("Sequential".equals(kind)) {
                KerasSequentialModel model = file.buildSequential();
                return new KerasImporter(source, named(model), model.getOutputTypes()).build();
            }
            KerasModel model = file.buildModel();
            return new KerasImporter(source, model.getComputationGraph(), model.getOutputTypes()).build();
        } catch (IOException | InvalidKerasConfigurationException | UnsupportedKerasConfigurationException e) {
            throw new IllegalArgumentException(source + " is not a Keras model this importer reads: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException && e.getMessage() != null && e.getMessage().startsWith(source)) {
                throw e;
            }
            // DL4J's importer fails on some files with unchecked exceptions (a layer it cannot type, say)
            throw new IllegalArgumentException(source + ": DL4J's Keras importer failed: " + e, e);
        }
    }

    /**
     * A Sequential model as a graph whose vertices carry the Keras layers' names (DL4J builds a
     * layer stack, whose own conversion to a graph numbers the layers).
     */
    private static ComputationGraph named(KerasSequentialModel model) throws InvalidKerasConfigurationException,
            UnsupportedKerasConfigurationException {
        MultiLayerNetwork stack = model.getMultiLayerNetwork();
        MultiLayerConfiguration conf = stack.getLayerWiseConfigurations();
        String last = model.getInputLayerNames().get(0);
        ComputationGraphConfiguration.GraphBuilder graph = new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs(last);
        for (int i = 0; i < conf.getConfs().size(); i++) {
            Layer layer = conf.getConf(i).getLayer();
            graph.addLayer(layer.getLayerName(), layer, conf.getInputPreProcess(i), last);
            last = layer.getLayerName();
        }
        ComputationGraph net = new ComputationGraph(graph.setOutputs(last).build());
        net.init();
        net.setParams(stack.params()); // a stack and a chain graph lay their parameters out alike
        return net;
    }

    private ImportedModel build() {
        ComputationGraphConfiguration conf = keras.getConfiguration();
        for (int i : keras.topologicalSortOrder()) {
            String name = keras.getVertices()[i].getVertexName();
            if (!name.equals(inputName)) {
                convert(name, conf.getVertices().get(name), conf.getVertexInputs().get(name));
            }
        }
        List<String> outputs = conf.getNetworkOutputs();
        if (outputs.size() != 1 || dense == null || !dense.equals(vertexOf.get(outputs.get(0)))) {
            throw new IllegalArgumentException(source + ": the model must end in a classifier (a Dense layer, with a "
                    + "softmax or without); its output " + outputs + " is not one");
        }
        return ImportedLayers.finish(builder, dense, denseInputs.get(dense), params, input, !softmaxed);
    }

    private void convert(String name, GraphVertex vertex, List<String> inputs) {
        if (vertex instanceof PreprocessorVertex pv && pv.getPreProcessor() instanceof CnnToFeedForwardPreProcessor) {
            flatten(name, inputs.get(0));
            return;
        }
        if (vertex instanceof LayerVertex lv && lv.getPreProcessor() != null
                && !(lv.getPreProcessor() instanceof CnnToFeedForwardPreProcessor)) {
            throw unsupported(name, "input preprocessor " + lv.getPreProcessor().getClass().getSimpleName());
        }
        LayerKind kind = LayerKind.of(vertex);
        boolean flattening = vertex instanceof LayerVertex lv && lv.getPreProcessor() != null;
        if (flattening && kind != LayerKind.DENSE && kind != LayerKind.OUTPUT && kind != LayerKind.DROPOUT) {
            throw readsFlattened(name);
        }
        switch (kind) {
            case CONVOLUTION, DEPTHWISE_CONVOLUTION -> convolution(name, (ConvolutionLayer) layer(vertex), in(name, inputs));
            case BATCH_NORM -> batchNorm(name, (BatchNormalization) layer(vertex), in(name, inputs));
            case ACTIVATION -> activation(name, ((ActivationLayer) layer(vertex)).getActivationFn(), in(name, inputs));
            case MAX_POOL, OTHER_POOL -> pool(name, (SubsamplingLayer) layer(vertex), inputs.get(0));
            case GLOBAL_AVG_POOL -> single(name, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), inputs.get(0));
            case DENSE, OUTPUT -> dense(name, (FeedForwardLayer) layer(vertex), inputs.get(0));
            case DROPOUT -> passThrough(name, inputs.get(0), flattening);
            case ADD -> join(name, new ElementWiseVertex(ElementWiseVertex.Op.Add), inputs);
            case CONCAT -> concat(name, (MergeVertex) vertex, inputs);
            default -> throw unsupported(name, describe(vertex));
        }
    }

    private static Layer layer(GraphVertex vertex) {
        return ((LayerVertex) vertex).getLayerConf().getLayer();
    }

    private static String describe(GraphVertex vertex) {
        return vertex instanceof LayerVertex ? "DL4J layer " + layer(vertex).getClass().getSimpleName()
                : "DL4J vertex " + vertex.getClass().getSimpleName();
    }

    private IllegalArgumentException unsupported(String layer, String what) {
        return new IllegalArgumentException(source + ": cannot import layer '" + layer + "' (" + what
                + "); the importer converts " + SUPPORTED);
    }

    /** The vertex holding the single input's output; flattened maps may only reach a dense layer. */
    private String in(String name, List<String> inputs) {
        if (inputs.size() != 1) {
            throw unsupported(name, inputs.size() + " inputs");
        }
        if (flattened.containsKey(inputs.get(0))) {
            throw readsFlattened(name);
        }
        return vertexOf.get(inputs.get(0));
    }

    /** A flattened map reaches a layer through a Flatten layer, or through DL4J's preprocessor on the layer. */
    private IllegalArgumentException readsFlattened(String name) {
        return unsupported(name, "reads a flattened feature map; only a Dense layer may");
    }

    private void single(String name, Layer layer, String input) {
        builder.addLayer(name, layer, in(name, List.of(input)));
        vertexOf.put(name, name);
    }

    private void convolution(String name, ConvolutionLayer c, String x) {
        boolean depthwise = c instanceof DepthwiseConvolution2D;
        ConvolutionLayer.BaseConvBuilder<?> b = depthwise
                ? new DepthwiseConvolution2D.Builder(c.getKernelSize()).depthMultiplier(((DepthwiseConvolution2D) c)
                        .getDepthMultiplier())
                : new ConvolutionLayer.Builder(c.getKernelSize());
        builder.addLayer(name, b.stride(c.getStride()).dilation(c.getDilation()).padding(c.getPadding())
                .convolutionMode(c.getConvolutionMode()).nIn(c.getNIn()).nOut(c.getNOut()).hasBias(c.hasBias())
                .activation(Activation.IDENTITY).build(), x);
        // DL4J keeps a convolution's weights in one order whatever the data format: they carry over
        params.put(name, keep(name, c.hasBias() ? List.of("W", "b") : List.of("W")));
        vertexOf.put(name, name);
        thenActivation(name, c);
    }

    private void batchNorm(String name, BatchNormalization bn, String x) {
        long c = bn.getNOut();
        builder.addLayer(name, ImportedLayers.batchNorm(c, bn.getEps()), x);
        Map<String, INDArray> p = keras.getLayer(name).paramTable();
        INDArray gamma = bn.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[] {c}, bn.getGamma()) : p.get("gamma");
        INDArray beta = bn.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[] {c}, bn.getBeta()) : p.get("beta");
        // var = (10^log10stdev)^2 where DL4J keeps the log
        INDArray variance = bn.isUseLogStd() ? Transforms.exp(p.get("log10stdev").mul(2 * Math.log(10)), false)
                : p.get("var");
        params.put(name, ImportedLayers.batchNormParams(gamma.dup(), beta.dup(), p.get("mean").dup(), variance.dup()));
        vertexOf.put(name, name);
    }

    /**
     * An activation as its own layer; linear is no layer, and a softmax right after the last dense
     * layer makes that layer the classifier.
     */
    private void activation(String name, IActivation fn, String x) {
        IActivation own = ownActivation(name, fn);
        if (own instanceof ActivationIdentity) {
            vertexOf.put(name, x);
        } else if (own instanceof ActivationSoftmax && x.equals(dense)) {
            softmaxed = true;
            vertexOf.put(name, x);
        } else {
            builder.addLayer(name, new ActivationLayer.Builder().activation(own).build(), x);
            vertexOf.put(name, name);
        }
    }

    /** The activations this project prunes, quantizes and exports, in the form it knows them. */
    private IActivation ownActivation(String name, IActivation fn) {
        if (fn instanceof ActivationReLU relu) {
            boolean plain = (relu.getThreshold() == null || relu.getThreshold() == 0)
                    && (relu.getNegativeSlope() == null || relu.getNegativeSlope() == 0);
            if (plain && (relu.getMax() == null || relu.getMax() == 0)) {
                return Activation.RELU.getActivationFunction();
            }
            if (plain && relu.getMax() == 6) {
                return Activation.RELU6.getActivationFunction();
            }
            throw unsupported(name, "ReLU with max " + relu.getMax() + ", threshold " + relu.getThreshold()
                    + " and negative slope " + relu.getNegativeSlope());
        }
        if (fn instanceof ActivationReLU6 || fn instanceof ActivationLReLU || fn instanceof ActivationSigmoid
                || fn instanceof ActivationSoftmax || fn instanceof ActivationIdentity) {
            return fn;
        }
        throw unsupported(name, "activation " + fn);
    }

    /** A layer's own activation (Keras's {@code activation=} argument) as the layer after it. */
    private void thenActivation(String name, BaseLayer layer) {
        IActivation fn = layer.getActivationFn();
        if (fn == null || fn instanceof ActivationIdentity) {
            return;
        }
        String activation = name + "_activation";
        if (keras.getConfiguration().getVertices().containsKey(activation)) {
            throw unsupported(name, "its activation would take the name of layer '" + activation + "'");
        }
        activation(activation, fn, name);
        vertexOf.put(name, vertexOf.get(activation));
    }

    private void pool(String name, SubsamplingLayer p, String input) {
        PoolingType type = switch (p.getPoolingType()) {
            case MAX -> PoolingType.MAX;
            case AVG -> PoolingType.AVG;
            default -> throw unsupported(name, p.getPoolingType() + " pooling");
        };
        in(name, List.of(input));
        if (type == PoolingType.AVG && padded(p, (InputType.InputTypeConvolutional) types.get(input))) {
            throw unsupported(name, "average pooling with padding");
        }
        single(name, new SubsamplingLayer.Builder(type).kernelSize(p.getKernelSize()).stride(p.getStride())
                .padding(p.getPadding()).convolutionMode(p.getConvolutionMode()).build(), input);
    }

    /** Whether a window runs over the border, where DL4J and Keras average different counts. */
    private static boolean padded(SubsamplingLayer p, InputType.InputTypeConvolutional in) {
        if (p.getConvolutionMode() != ConvolutionMode.Same) {
            return p.getPadding()[0] > 0 || p.getPadding()[1] > 0;
        }
        long[] size = {in.getHeight(), in.getWidth()};
        for (int a = 0; a < 2; a++) {
            long out = (size[a] + p.getStride()[a] - 1) / p.getStride()[a];
            if ((out - 1) * p.getStride()[a] + p.getKernelSize()[a] > size[a]) {
                return true;
            }
        }
        return false;
    }

    /**
     * A layer that computes nothing at inference (dropout): its input stands for it, flattened or not
     * (in a Sequential model, the flattening before it is its own preprocessor).
     */
    private void passThrough(String name, String input, boolean flattening) {
        vertexOf.put(name, vertexOf.get(input));
        if (flattened.containsKey(input)) {
            flattened.put(name, flattened.get(input));
        } else if (flattening && types.get(input) instanceof InputType.InputTypeConvolutional map) {
            flattened.put(name, map);
        }
    }

    private void flatten(String name, String input) {
        if (!(types.get(input) instanceof InputType.InputTypeConvolutional map)) {
            throw unsupported(name, "a flattening of " + types.get(input));
        }
        flattened.put(name, map);
        vertexOf.put(name, vertexOf.get(input));
    }

    private void dense(String name, FeedForwardLayer d, String input) {
        if (softmaxed) {
            throw unsupported(name, "a dense layer after a softmax; only the classifier may end in one");
        }
        String x = vertexOf.get(input);
        builder.addLayer(name, new DenseLayer.Builder().nIn(d.getNIn()).nOut(d.getNOut()).hasBias(true)
                .activation(Activation.IDENTITY).build(), x);
        Map<String, INDArray> p = keep(name, List.of("W"));
        INDArray bias = keras.getLayer(name).paramTable().get("b");
        p.put("b", bias == null ? Nd4j.zeros(1, d.getNOut()) : bias.reshape(1, d.getNOut()).dup());
        InputType.InputTypeConvolutional map = flattened.get(input);
        if (map == null && types.get(input) instanceof InputType.InputTypeConvolutional direct) {
            map = direct; // DL4J flattens in the layer's own preprocessor
        }
        if (map != null && map.getFormat() == CNN2DFormat.NHWC) {
            p.put("W", channelsFirstRows(p.get("W"), map));
        }
        params.put(name, p);
        denseInputs.put(name, x);
        vertexOf.put(name, name);
        dense = name;
        thenActivation(name, d);
    }

    /**
     * A dense layer's weights for a flattened channels-first map, from those for the same map flattened
     * channels last: row (h, w, c) moves to row (c, h, w).
     */
    private static INDArray channelsFirstRows(INDArray w, InputType.InputTypeConvolutional map) {
        long h = map.getHeight();
        long wd = map.getWidth();
        long c = map.getChannels();
        return w.reshape('c', h, wd, c, w.size(1)).permute(2, 0, 1, 3).dup('c').reshape('c', c * h * wd, w.size(1));
    }

    private void join(String name, GraphVertex vertex, List<String> inputs) {
        List<String> vertices = new ArrayList<>();
        for (String i : inputs) {
            vertices.add(in(name, List.of(i)));
        }
        builder.addVertex(name, vertex, vertices.toArray(String[]::new));
        vertexOf.put(name, name);
    }

    private void concat(String name, MergeVertex merge, List<String> inputs) {
        InputType first = types.get(inputs.get(0));
        int axis = merge.getMergeAxis();
        boolean channels = first instanceof InputType.InputTypeConvolutional map
                && (map.getFormat() == CNN2DFormat.NHWC ? axis == -1 || axis == 3 : axis == 1);
        if (!channels) {
            throw unsupported(name, "concatenation along axis " + axis + " of " + first + "; along channels converts");
        }
        join(name, new MergeVertex(), inputs);
    }

    /** The named parameters of a Keras layer, copied. */
    private Map<String, INDArray> keep(String name, List<String> keys) {
        Map<String, INDArray> from = keras.getLayer(name).paramTable();
        Map<String, INDArray> p = new LinkedHashMap<>();
        for (String k : keys) {
            INDArray v = from.get(k);
            p.put(k, k.equals("b") ? v.reshape(1, v.length()).dup() : v.dup());
        }
        return p;
    }
}

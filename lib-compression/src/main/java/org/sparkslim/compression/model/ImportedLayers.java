package org.sparkslim.compression.model;

import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkslim.compression.data.ImageShape;

/** The layers every importer writes the same way, so that imported networks look alike to pruning and export. */
public final class ImportedLayers {
    private ImportedLayers() {
    }

    /** A graph with one channels-first image input. */
    public static ComputationGraphConfiguration.GraphBuilder graph(String input, ImageShape shape) {
        return new NeuralNetConfiguration.Builder().weightInit(WeightInit.XAVIER).graphBuilder().addInputs(input)
                .setInputTypes(InputType.convolutional(shape.height(), shape.width(), shape.channels()));
    }

    /** A batch norm over {@code channels} that keeps log10 of its running standard deviation, as the zoo's do. */
    public static BatchNormalization batchNorm(long channels, double eps) {
        return new BatchNormalization.Builder().nIn(channels).nOut(channels).eps(eps).useLogStd(true).build();
    }

    /** A batch norm's parameters from scale, shift and running mean and variance, each of one value per channel. */
    public static Map<String, INDArray> batchNormParams(INDArray gamma, INDArray beta, INDArray mean, INDArray variance) {
        long c = gamma.length();
        // DL4J keeps log10 of sqrt(var) and divides by sqrt(var + eps), as the file's runtime did
        INDArray log10stdev = Transforms.log(Transforms.max(variance.castTo(DataType.DOUBLE), 1e-30, false), 10, false)
                .muli(0.5).castTo(DataType.FLOAT);
        return Map.of("gamma", gamma.reshape(1, c), "beta", beta.reshape(1, c), "mean", mean.reshape(1, c),
                "log10stdev", log10stdev.reshape(1, c));
    }

    /**
     * The imported network: the dense layer {@code classifier} (reading {@code classifierInput})
     * becomes a softmax output layer with its weights, and every layer gets its parameters.
     */
    public static ImportedModel finish(ComputationGraphConfiguration.GraphBuilder builder, String classifier,
                                       String classifierInput, Map<String, Map<String, INDArray>> params,
                                       ImageShape input, boolean endedInLogits) {
        INDArray w = params.get(classifier).get("W");
        builder.removeVertex(classifier, false);
        builder.addLayer(classifier, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(w.size(0))
                .nOut(w.size(1)).hasBias(params.get(classifier).containsKey("b")).activation(Activation.SOFTMAX)
                .build(), classifierInput);
        builder.setOutputs(classifier);
        ComputationGraph net = new ComputationGraph(builder.build());
        net.init();
        params.forEach((layer, p) -> p.forEach((key, value) -> net.getLayer(layer).setParam(key, value)));
        return new ImportedModel(net, input, endedInLogits);
    }
}

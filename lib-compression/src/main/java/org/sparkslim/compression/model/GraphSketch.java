package org.sparkslim.compression.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A small vocabulary for the zoo's layouts: conv + BN + activation units, depthwise units, residual
 * additions, pooling and the classifier head. Every method returns the name of the vertex it ended
 * with, so layouts read as a chain. A unit named {@code x} is the layers {@code x}, {@code x.bn} and
 * {@code x.relu} (or {@code x.relu6}).
 */
final class GraphSketch {
    static final String INPUT = "input";
    static final String POOL = "gap";
    static final String CLASSIFIER = "fc";

    private final ComputationGraphConfiguration.GraphBuilder graph;
    private final ModelSpec spec;

    GraphSketch(ModelSpec spec) {
        this.spec = spec;
        this.graph = new NeuralNetConfiguration.Builder()
                .seed(spec.seed())
                .weightInit(WeightInit.RELU)
                .graphBuilder()
                .addInputs(INPUT)
                .setInputTypes(InputType.convolutional(spec.input().height(), spec.input().width(), spec.input().channels()));
    }

    int inputChannels() {
        return spec.input().channels();
    }

    int width(String slot) {
        return spec.widths().get(slot);
    }

    /** Convolution without bias ("same" padding) + batch norm, and the activation unless it is null. */
    String conv(String name, String input, int in, int out, int kernel, int stride, Activation activation) {
        graph.addLayer(name, new ConvolutionLayer.Builder(kernel, kernel)
                .stride(stride, stride)
                .nIn(in).nOut(out)
                .hasBias(false)
                .convolutionMode(ConvolutionMode.Same)
                .activation(Activation.IDENTITY)
                .build(), input);
        return batchNormAndActivation(name, out, activation);
    }

    /** Depthwise convolution (multiplier 1, no bias) + batch norm + activation. */
    String depthwise(String name, String input, int channels, int kernel, int stride, Activation activation) {
        graph.addLayer(name, new DepthwiseConvolution2D.Builder(kernel, kernel)
                .stride(stride, stride)
                .depthMultiplier(1)
                .nIn(channels).nOut(channels)
                .hasBias(false)
                .convolutionMode(ConvolutionMode.Same)
                .activation(Activation.IDENTITY)
                .build(), input);
        return batchNormAndActivation(name, channels, activation);
    }

    private String batchNormAndActivation(String name, int channels, Activation activation) {
        String bn = name + ".bn";
        graph.addLayer(bn, new BatchNormalization.Builder().nIn(channels).nOut(channels).build(), name);
        return activation == null ? bn : activation(name + "." + activation.name().toLowerCase(), bn, activation);
    }

    String activation(String name, String input, Activation activation) {
        graph.addLayer(name, new ActivationLayer.Builder().activation(activation).build(), input);
        return name;
    }

    String add(String name, String... inputs) {
        graph.addVertex(name, new ElementWiseVertex(ElementWiseVertex.Op.Add), inputs);
        return name;
    }

    String maxPool(String name, String input) {
        graph.addLayer(name, new SubsamplingLayer.Builder(PoolingType.MAX)
                .kernelSize(2, 2).stride(2, 2)
                .convolutionMode(ConvolutionMode.Truncate)
                .build(), input);
        return name;
    }

    /** Global average pooling, then a dense softmax classifier; returns the network. */
    ComputationGraph classifier(String input, int channels) {
        graph.addLayer(POOL, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), input);
        graph.addLayer(CLASSIFIER, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nIn(channels).nOut(spec.numClasses())
                .weightInit(WeightInit.XAVIER)
                .activation(Activation.SOFTMAX)
                .build(), POOL);
        graph.setOutputs(CLASSIFIER);
        ComputationGraph net = new ComputationGraph(graph.build());
        net.init();
        return net;
    }
}

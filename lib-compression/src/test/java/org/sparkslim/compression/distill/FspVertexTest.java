package org.sparkslim.compression.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

class FspVertexTest {
    @Test
    void matricesAreTheMeanOverPositionsOfChannelProducts() {
        Nd4j.getRandom().setSeed(5);
        INDArray a = Nd4j.randn(DataType.DOUBLE, 3, 2, 4, 5);
        INDArray b = Nd4j.randn(DataType.DOUBLE, 3, 3, 4, 5);
        INDArray g = FspVertex.matrices(a, b);
        assertArrayEquals(new long[] {3, 6}, g.shape());
        for (int n = 0; n < 3; n++) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    double sum = 0;
                    for (int y = 0; y < 4; y++) {
                        for (int x = 0; x < 5; x++) {
                            sum += a.getDouble(n, i, y, x) * b.getDouble(n, j, y, x);
                        }
                    }
                    assertEquals(sum / 20, g.getDouble(n, i * 3 + j), 1e-12, "G[" + n + "][" + i + "][" + j + "]");
                }
            }
        }
        // a view (one channel slice of a larger array) gives the same matrices as its copy
        INDArray wide = Nd4j.randn(DataType.DOUBLE, 3, 4, 4, 5);
        INDArray view = wide.get(NDArrayIndex.all(),
                NDArrayIndex.interval(1, 3));
        assertEquals(FspVertex.matrices(view.dup(), b), FspVertex.matrices(view, b));
    }

    /** Two convolutions of one input, their FSP matrix, a squared error: DL4J's numerical gradient check. */
    @Test
    void backpropagationMatchesNumericalGradients() {
        DataType defaultType = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            checkGradients();
        } finally {
            Nd4j.setDefaultDataTypes(defaultType, defaultType);
        }
    }

    private static void checkGradients() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .dataType(DataType.DOUBLE).seed(12).updater(new NoOp()).weightInit(WeightInit.XAVIER)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(5, 4, 2))
                .addLayer("a", new ConvolutionLayer.Builder(3, 3).nOut(3).activation(Activation.TANH)
                        .convolutionMode(ConvolutionMode.Same).build(), "in")
                .addLayer("b", new ConvolutionLayer.Builder(1, 1).nOut(2).activation(Activation.IDENTITY).build(), "in")
                .addVertex("fsp", new FspVertex(), "a", "b")
                .addLayer("loss", new LossLayer.Builder(new LossMSE()).activation(Activation.IDENTITY).build(), "fsp")
                .setOutputs("loss")
                .build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        Nd4j.getRandom().setSeed(13);
        INDArray input = Nd4j.randn(DataType.DOUBLE, 4, 2, 5, 4);
        INDArray target = Nd4j.randn(DataType.DOUBLE, 4, 6);
        assertArrayEquals(new long[] {4, 6}, net.outputSingle(input).shape());
        assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(net)
                .inputs(new INDArray[] {input}).labels(new INDArray[] {target})
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9)), "analytic and numerical gradients agree");
    }

    @Test
    void inputsOfTwoSizesAreRefused() {
        InvalidInputTypeException e = assertThrows(InvalidInputTypeException.class, () -> new FspVertex()
                .getOutputType(0, InputType.convolutional(8, 8, 4), InputType.convolutional(4, 4, 4)));
        assertTrue(e.getMessage().contains("8x8 and 4x4"), e.getMessage());
        assertEquals(InputType.feedForward(12),
                new FspVertex().getOutputType(0, InputType.convolutional(8, 8, 4), InputType.convolutional(8, 8, 3)));
    }
}

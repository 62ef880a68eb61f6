package org.sparkslim.compression.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;

/**
 * Training through the fused batch norm kernels computes what DL4J's batch norm computes. DL4J has two
 * implementations of its own (built-in, and through oneDNN) whose gradients already differ in float
 * rounding by a few parts in a thousand over a deep network; the fused one must be as close to the
 * built-in one as that, while a wrong formula would be off by far more.
 */
class FusedBatchNormTest {
    private static ComputationGraph trainable(ComputationGraph net) throws Exception {
        TrainingRecipe recipe = new TrainingRecipe(1, 16, 0.05, 0.9, 5e-4, Augmentation.NONE, 3);
        return new Trainer(recipe, 10).prepare(ModelFiles.fromBytes(ModelFiles.toBytes(net), "copy"), 160);
    }

    /** DL4J's built-in batch norm: the helper it would use (oneDNN) removed. */
    private static ComputationGraph builtIn(ComputationGraph net) throws Exception {
        ComputationGraph copy = trainable(net);
        Field helper = BatchNormalization.class.getDeclaredField("helper");
        helper.setAccessible(true);
        for (Layer l : copy.getLayers()) {
            if (l instanceof BatchNormalization) {
                helper.set(l, null);
            }
        }
        return copy;
    }

    private static DataSet batch(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, 16, 1, 28, 28).subi(0.3).muli(2);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 16, 10);
        for (int i = 0; i < 16; i++) {
            labels.putScalar(i, (i * 7 + seed) % 10, 1);
        }
        return new DataSet(x, labels);
    }

    private static double maxRelative(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue() / Math.max(1e-6, b.amaxNumber().doubleValue());
    }

    private static INDArray gradient(ComputationGraph net, DataSet batch) {
        net.setInputs(batch.getFeatures());
        net.setLabels(batch.getLabels());
        net.computeGradientAndScore();
        return net.gradient().gradient().dup();
    }

    @Test
    void installsOnEveryBatchNormAndOnlyThere() throws Exception {
        ComputationGraph net = trainable(TestNetworks.zoo("mobilenetv2"));
        int batchNorms = 0;
        String someBatchNorm = null;
        for (Layer l : net.getLayers()) {
            if (l instanceof BatchNormalization) {
                batchNorms++;
                someBatchNorm = l.conf().getLayer().getLayerName();
            }
        }
        assertFalse(FusedBatchNorm.isInstalled(net, someBatchNorm));
        assertTrue(FusedBatchNorm.installOn(net) == batchNorms && batchNorms > 10, batchNorms + " batch norms");
        assertTrue(FusedBatchNorm.isInstalled(net, someBatchNorm));
    }

    @Test
    void trainingOutputsAndGradientsAreDl4jsWithinItsOwnRounding() throws Exception {
        for (String family : new String[] {"mobilenetv2", "resnet20"}) {
            ComputationGraph original = TestNetworks.zoo(family);
            ComputationGraph reference = builtIn(original);
            ComputationGraph oneDnn = trainable(original);
            ComputationGraph fused = trainable(original);
            FusedBatchNorm.installOn(fused);
            DataSet b = batch(4);

            Map<String, INDArray> expected = reference.feedForward(b.getFeatures(), true);
            Map<String, INDArray> actual = fused.feedForward(b.getFeatures(), true);
            for (Map.Entry<String, INDArray> e : expected.entrySet()) {
                double d = maxRelative(actual.get(e.getKey()), e.getValue());
                assertTrue(d < 1e-4, family + ": training activations of " + e.getKey() + " differ by " + d);
            }

            INDArray truth = gradient(reference, b);
            double dl4jSpread = maxRelative(gradient(oneDnn, b), truth);
            double fusedError = maxRelative(gradient(fused, b), truth);
            assertTrue(fusedError < Math.max(2 * dl4jSpread, 1e-3) && fusedError < 1e-2, family + ": gradients differ by "
                    + fusedError + " of the largest; DL4J's two implementations by " + dl4jSpread);
        }
    }

    /** A batch norm after a dense layer reaches the kernels too, as {@code [n, c, 1, 1]}. */
    @Test
    void denseBatchNormGradientsMatch() throws Exception {
        ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(5)
                .updater(new Sgd(0.1)).graphBuilder().addInputs("in")
                .addLayer("dense", new DenseLayer.Builder().nIn(12).nOut(8).activation(Activation.IDENTITY).build(), "in")
                .addLayer("bn", new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().nOut(8).build(), "dense")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "bn")
                .setOutputs("out").build());
        net.init();
        Nd4j.getRandom().setSeed(2);
        DataSet b = new DataSet(Nd4j.rand(DataType.FLOAT, 32, 12).muli(3), Nd4j.eye(3).repeat(0, 11).getRows(
                java.util.stream.IntStream.range(0, 32).toArray()));
        ComputationGraph reference = builtIn(net);
        ComputationGraph fused = trainable(net);
        FusedBatchNorm.installOn(fused);
        double error = maxRelative(gradient(fused, b), gradient(reference, b));
        assertTrue(error < 1e-4, "gradients differ by " + error);
    }

    /** DL4J updates the running means and deviations (parameters) from the batch statistics the helper gives. */
    @Test
    void runningStatisticsFollowTheBatch() throws Exception {
        ComputationGraph original = TestNetworks.zoo("mobilenetv2");
        ComputationGraph reference = builtIn(original);
        ComputationGraph fused = trainable(original);
        FusedBatchNorm.installOn(fused);
        reference.fit(batch(1));
        fused.fit(batch(1));
        int statistics = 0;
        for (String p : reference.paramTable().keySet()) {
            if (p.endsWith("_mean") || p.endsWith("_log10stdev") || p.endsWith("_var")) {
                statistics++;
                INDArray before = original.getParam(p);
                double moved = maxRelative(reference.getParam(p), before);
                double d = maxRelative(fused.getParam(p), reference.getParam(p));
                assertTrue(moved > 1e-3 && d < 1e-4, p + " moved by " + moved + ", differs by " + d);
            }
        }
        assertTrue(statistics > 20, statistics + " running statistics");
    }
}

package org.sparkslim.compression.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;

/** The one-pass ReLU6 gradient is ND4J's, element for element, and leaves no trace in a saved network. */
class OnePassReLU6Test {
    /** Inputs on both sides of and exactly at the two kinks, more than one piece of work long. */
    private static INDArray input(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.FLOAT, 16, 24, 14, 14).muli(5).addi(3);
        for (int i = 0; i < x.length(); i += 97) {
            x.putScalar(i, i % 2 == 0 ? 0f : 6f);
        }
        return x;
    }

    private static INDArray gradient(ActivationReLU6 fn, INDArray x, INDArray epsilon) {
        return fn.backprop(x.dup(), epsilon).getFirst();
    }

    @Test
    void theGradientIsNd4jsExactly() {
        INDArray x = input(1);
        INDArray epsilon = Nd4j.randn(DataType.FLOAT, x.shape());
        INDArray expected = gradient(new ActivationReLU6(), x, epsilon);
        assertEquals(expected, gradient(new OnePassReLU6(), x, epsilon));
        assertTrue(expected.eq(0).castTo(DataType.INT32).sumNumber().intValue() > x.length() / 4,
                "a good share of the inputs lies outside (0, 6)");
    }

    @Test
    void aGradientThatIsNotDenseGoesToNd4j() {
        INDArray x = input(2);
        INDArray epsilon = Nd4j.randn(DataType.FLOAT, x.shape()).dup('f');
        assertEquals(gradient(new ActivationReLU6(), x, epsilon), gradient(new OnePassReLU6(), x, epsilon));
    }

    @Test
    void trainingWithItMatchesNd4jAndTheSavedNetworkDoesNotNameIt() throws Exception {
        TrainingRecipe recipe = new TrainingRecipe(1, 16, 0.05, 0.9, 5e-4, Augmentation.NONE, 3);
        Trainer trainer = new Trainer(recipe, 10);
        ComputationGraph built = TestNetworks.zoo("mobilenetv2");
        ComputationGraph plain = trainer.prepare(ModelFiles.fromBytes(ModelFiles.toBytes(built), "a"), 160);
        ComputationGraph onePass = trainer.prepare(ModelFiles.fromBytes(ModelFiles.toBytes(built), "b"), 160);
        Nd4j.getRandom().setSeed(7);
        DataSet batch = new DataSet(Nd4j.rand(DataType.FLOAT, 16, 1, 28, 28), Nd4j.eye(16).getColumns(0, 1, 2, 3, 4, 5,
                6, 7, 8, 9));
        try (OnePassReLU6.Installed installed = OnePassReLU6.installOn(onePass)) {
            assertTrue(installed.size() > 10, installed.size() + " ReLU6 layers");
            for (int step = 0; step < 3; step++) {
                plain.fit(batch);
                onePass.fit(batch);
            }
        }
        assertEquals(plain.params(), onePass.params());
        assertFalse(onePass.getConfiguration().toJson().contains(OnePassReLU6.class.getSimpleName()));
    }
}

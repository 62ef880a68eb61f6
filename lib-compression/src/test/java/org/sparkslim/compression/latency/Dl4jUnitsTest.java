package org.sparkslim.compression.latency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.model.TestNetworks;

class Dl4jUnitsTest {
    /**
     * A zoo network splits into one unit per vertex; repeated blocks share keys; the units' networks,
     * each run alone on the outputs of those before it, with a trail or not, give the network's output.
     */
    @ParameterizedTest
    @CsvSource({"vgg, 23, 17", "resnet20, 72, 19", "mobilenetv1, 35, 25", "mobilenetv2, 74, 44"})
    void zooNetworksSplitIntoVerticesThatRunAlone(String family, int units, int distinct) {
        ComputationGraph net = TestNetworks.zoo(family);
        List<Dl4jUnit> split = Dl4jUnits.of(net, TestNetworks.FASHION);
        assertEquals(units, split.size());
        assertEquals(net.getVertices().length - 1, units, "every vertex but the input");
        assertEquals(distinct, split.stream().map(Dl4jUnit::key).distinct().count());
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 1, 28, 28);
        INDArray expected = net.outputSingle(false, x);
        for (boolean trail : new boolean[] {false, true}) {
            Map<String, INDArray> outputs = new HashMap<>();
            outputs.put(net.getConfiguration().getNetworkInputs().get(0), x);
            for (Dl4jUnit unit : split) {
                INDArray[] feed = net.getConfiguration().getVertexInputs().get(unit.vertex()).stream()
                        .map(in -> outputs.get(in).dup()).toArray(INDArray[]::new);
                INDArray out = Dl4jUnits.networkOf(unit, net, trail).output(false, feed)[0].dup();
                assertArrayEquals(unit.output(), shapeAtOne(out), unit.summary());
                outputs.put(unit.vertex(), out);
            }
            INDArray chained = outputs.get(net.getConfiguration().getNetworkOutputs().get(0));
            assertTrue(expected.equalsWithEps(chained, 1e-5), family + ": " + expected + " vs " + chained);
        }
    }

    private static long[] shapeAtOne(INDArray a) {
        long[] shape = a.shape().clone();
        shape[0] = 1;
        return shape;
    }

    @Test
    void anEstimateIsTheCallAndTheUnitsAndFillsTheTable() {
        ComputationGraph net = TestNetworks.zoo("resnet20");
        Dl4jLatency latency = new Dl4jLatency(1, 3, 1);
        LatencyTable.Estimated first = latency.estimate(new LatencyTable(Dl4jLatency.ENGINE, List.of()), net,
                TestNetworks.FASHION, 2);
        assertEquals(72, first.estimate().units());
        assertEquals(19, first.estimate().timedNow(), "each distinct unit timed once");
        assertEquals(20, first.table().entries().size(), "the units and the call");
        double sum = first.table().entries().stream().mapToDouble(LatencyTable.Entry::millis).sum();
        assertTrue(first.estimate().millis() > 0 && first.estimate().millis() >= sum, "repeated units count again");

        LatencyTable.Estimated again = latency.estimate(first.table(), net, TestNetworks.FASHION, 2);
        assertEquals(0, again.estimate().timedNow());
        assertEquals(first.estimate().millis(), again.estimate().millis(), 0);
    }
}

package org.sparkslim.jobs.onnx;

import ai.onnxruntime.OrtException;
import java.util.List;
import onnx.Onnx;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.shade.protobuf.InvalidProtocolBufferException;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.latency.LatencyTable;
import org.sparkslim.compression.latency.OnnxUnits;
import org.sparkslim.compression.latency.OpUnit;
import org.sparkslim.compression.onnx.OnnxExporter;

/**
 * A network's latency at one batch size estimated from a {@link LatencyTable}: the network is
 * exported, split into units, and the units the table lacks are timed on this machine and added to it
 * first, so that a search over widths fills the table as it meets new shapes.
 */
public final class LatencyEstimator {
    private final OnnxLatency timer;
    private final ImageShape shape;
    private final int batch;
    private LatencyTable table;

    public LatencyEstimator(LatencyTable table, OnnxLatency timer, ImageShape shape, int batch) {
        this.table = table;
        this.timer = timer;
        this.shape = shape;
        this.batch = batch;
    }

    /** The table with every unit timed so far. */
    public LatencyTable table() {
        return table;
    }

    /** Estimated milliseconds of one call of {@code net}, timing the units the table lacks. */
    public double millis(ComputationGraph net) throws OrtException {
        return estimate(net).millis();
    }

    /** {@link #millis}, with what it took. */
    public LatencyTable.Estimate estimate(ComputationGraph net) throws OrtException {
        return estimate(export(net));
    }

    /** The estimate of a network already exported as {@code model}. */
    public LatencyTable.Estimate estimate(Onnx.ModelProto model) throws OrtException {
        List<OpUnit> units = OnnxUnits.of(model, timer.shapes(model, OnnxExporter.INPUT,
                new long[] {1, shape.channels(), shape.height(), shape.width()}));
        LatencyTable.Estimated e = table.estimate(units, batch, timer::callMillis,
                (unit, b) -> timer.unitMillis(unit, model, b));
        table = e.table();
        return e.estimate();
    }

    private Onnx.ModelProto export(ComputationGraph net) {
        try {
            return Onnx.ModelProto.parseFrom(OnnxExporter.export(net, shape));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("the exporter wrote a model its own protobuf classes cannot read", e);
        }
    }
}

package org.sparkslim.jobs.spark;

import ai.onnxruntime.OrtException;
import java.util.Iterator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.compression.train.ClassificationMetrics;
import org.sparkslim.compression.train.Evaluator;
import org.sparkslim.compression.train.InMemoryBatchSource;
import org.sparkslim.jobs.onnx.OnnxRuntimeModel;

/**
 * A network as one scoring task runs it, in the engine the config chose: the outputs (a classifier's
 * class probabilities, a teacher's logits) of a batch of images. Not thread-safe when it is DL4J's;
 * close it to free an ONNX Runtime session.
 */
public abstract class Scorer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Scorer.class);

    /** The network's outputs, {@code [batch, classes]}, for a batch of assembled images. */
    public abstract float[][] outputs(INDArray features);

    /** The engine that actually scores (DL4J when ONNX Runtime was asked for but the network cannot be exported). */
    public abstract ScoringEngine engine();

    @Override
    public void close() {
    }

    /**
     * @param threads native threads of one forward pass
     */
    public static Scorer open(ComputationGraph net, ScoringEngine engine, ImageShape shape, int threads) {
        if (engine == ScoringEngine.ONNX_RUNTIME) {
            try {
                return new OnnxRuntimeScorer(new OnnxRuntimeModel(OnnxExporter.export(net, shape), threads));
            } catch (IllegalArgumentException e) {
                // a layer the exporter cannot write, or a network with several outputs
                LOG.warn("scoring with DL4J: the network cannot run in ONNX Runtime ({})", e.getMessage());
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime cannot load the exported network: " + e.getMessage(), e);
            }
        }
        return new Dl4jScorer(net);
    }

    /** Top-1 and loss over {@code images}, in batches. */
    public ClassificationMetrics evaluate(LabeledImages images, BatchAssembler assembler, int batchSize) {
        ClassificationMetrics metrics = new ClassificationMetrics(assembler.numClasses());
        Iterator<DataSet> batches = InMemoryBatchSource.forEvaluation(images, assembler, batchSize).epoch(0);
        while (batches.hasNext()) {
            DataSet batch = batches.next();
            int[] labels = Evaluator.labelIndices(batch.getLabels());
            float[][] p = outputs(batch.getFeatures());
            for (int i = 0; i < labels.length; i++) {
                metrics.add(labels[i], p[i]);
            }
        }
        return metrics;
    }

    private static final class Dl4jScorer extends Scorer {
        private final ComputationGraph net;

        Dl4jScorer(ComputationGraph net) {
            this.net = net;
        }

        @Override
        public float[][] outputs(INDArray features) {
            return net.outputSingle(false, features).toFloatMatrix();
        }

        @Override
        public ScoringEngine engine() {
            return ScoringEngine.DL4J;
        }
    }

    private static final class OnnxRuntimeScorer extends Scorer {
        private final OnnxRuntimeModel model;

        OnnxRuntimeScorer(OnnxRuntimeModel model) {
            this.model = model;
        }

        @Override
        public float[][] outputs(INDArray features) {
            try {
                return model.predict(features);
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime failed on a batch: " + e.getMessage(), e);
            }
        }

        @Override
        public ScoringEngine engine() {
            return ScoringEngine.ONNX_RUNTIME;
        }

        @Override
        public void close() {
            try {
                model.close();
            } catch (OrtException e) {
                LOG.warn("cannot close an ONNX Runtime session: {}", e.getMessage());
            }
        }
    }
}

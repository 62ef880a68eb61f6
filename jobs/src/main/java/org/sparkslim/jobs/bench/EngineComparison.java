package org.sparkslim.jobs.bench;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.prune.Restoration;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.DistributedScoring;
import org.sparkslim.jobs.spark.ScoringEngine;
import org.sparkslim.jobs.spark.SensitivityAnalysis;

/**
 * The two scoring engines on the same work in one Spark session, taking turns (DL4J, ONNX Runtime,
 * DL4J, ONNX Runtime; each keeps its faster turn): evaluation of a split, and a sensitivity analysis.
 */
public final class EngineComparison {
    private EngineComparison() {
    }

    /**
     * @param maxConfidenceDifference the largest difference between the engines' probabilities of the
     *                                predicted class, over every image scored
     * @param agreement               the fraction of images both engines predict the same class for
     */
    public record Result(double dl4jEvaluationSeconds, double onnxEvaluationSeconds, double dl4jSensitivitySeconds,
                         double onnxSensitivitySeconds, double maxConfidenceDifference, double agreement) {
    }

    public static Result measure(SparkSession spark, ComputationGraph net, Dataset<Row> images, LabeledImages val,
                                 List<SensitivityAnalysis.Task> tasks, BatchAssembler assembler) {
        BroadcastModel model = BroadcastModel.of(spark, net);
        double[] evaluation = {Double.MAX_VALUE, Double.MAX_VALUE};
        double[] sensitivity = {Double.MAX_VALUE, Double.MAX_VALUE};
        List<ScoringEngine> engines = List.of(ScoringEngine.DL4J, ScoringEngine.ONNX_RUNTIME);
        for (int turn = 0; turn < 2; turn++) {
            for (int e = 0; e < engines.size(); e++) {
                ScoringEngine engine = engines.get(e);
                long start = System.nanoTime();
                DistributedScoring.predict(images, model, assembler, 256, 1, engine).count();
                evaluation[e] = Math.min(evaluation[e], (System.nanoTime() - start) / 1e9);
                start = System.nanoTime();
                SensitivityAnalysis.run(spark, model, tasks, new SensitivityAnalysis.Scoring(val, Restoration.none(),
                        assembler, 500, 1, engine));
                sensitivity[e] = Math.min(sensitivity[e], (System.nanoTime() - start) / 1e9);
            }
        }
        Map<Long, Row> dl4j = byId(DistributedScoring.predict(images, model, assembler, 256, 1, ScoringEngine.DL4J));
        Map<Long, Row> onnx = byId(DistributedScoring.predict(images, model, assembler, 256, 1,
                ScoringEngine.ONNX_RUNTIME));
        double maxDifference = 0;
        long agree = 0;
        for (Map.Entry<Long, Row> e : dl4j.entrySet()) {
            Row other = onnx.get(e.getKey());
            if (other.getInt(2) == e.getValue().getInt(2)) {
                agree++;
                maxDifference = Math.max(maxDifference, Math.abs(other.getDouble(4) - e.getValue().getDouble(4)));
            }
        }
        return new Result(evaluation[0], evaluation[1], sensitivity[0], sensitivity[1], maxDifference,
                agree / (double) dl4j.size());
    }

    private static Map<Long, Row> byId(Dataset<Row> predictions) {
        return predictions.collectAsList().stream().collect(Collectors.toMap(r -> r.getLong(0), Function.identity()));
    }
}

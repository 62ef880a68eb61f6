package org.sparkslim.jobs.tables;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkslim.jobs.pipeline.StageContext;

/**
 * The tables the evaluate stage aggregates with Spark (its per-model metrics are {@link MetricsTable}):
 * per-class accuracy, the confusion matrix and per-example predictions, each tagged with the stage and
 * model it scores.
 */
public final class EvaluationTables {
    public static final String PER_CLASS = "per-class.parquet";
    public static final String CONFUSION = "confusion.parquet";
    public static final String PREDICTIONS = "predictions.parquet";

    private EvaluationTables() {
    }

    /** One class of one model: how many examples, and the fraction predicted right. */
    public record ClassAccuracy(String stage, String model, int label, long examples, double accuracy) {
    }

    /** One model's score on the split: how many examples, the fraction right, the mean loss. */
    public record Score(long examples, double top1, double loss) {
    }

    /**
     * The tables of the models scored by one evaluation, built with Spark aggregations as each model's
     * predictions ({@code DistributedScoring} rows) arrive; nothing is collected but one score per model.
     */
    public static final class Builder {
        private Dataset<Row> perClass;
        private Dataset<Row> confusion;
        private Dataset<Row> predictions;

        /** Adds a model's predictions (persist them: they are read several times) and returns its score. */
        public Score add(String stage, String model, Dataset<Row> scored) {
            Row overall = scored.agg(count(lit(1)), avg(correct()), avg("loss")).first();
            Dataset<Row> tagged = scored.withColumn("stage", lit(stage)).withColumn("model", lit(model));
            Dataset<Row> classes = tagged.groupBy("stage", "model", "label")
                    .agg(count(lit(1)).as("examples"), avg(correct()).as("accuracy"));
            Dataset<Row> cells = tagged.groupBy("stage", "model", "label", "predicted").agg(count(lit(1)).as("count"));
            perClass = perClass == null ? classes : perClass.unionByName(classes);
            confusion = confusion == null ? cells : confusion.unionByName(cells);
            predictions = predictions == null ? tagged : predictions.unionByName(tagged);
            return new Score(overall.getLong(0), overall.getDouble(1), overall.getDouble(2));
        }

        /** Writes per-class accuracy, the confusion matrix and, when asked, the per-example predictions. */
        public void write(StageContext<?> ctx, boolean withPredictions) {
            Tables.write(perClass.orderBy("stage", "model", "label").coalesce(1), ctx.output(PER_CLASS));
            Tables.write(confusion.orderBy("stage", "model", "label", "predicted").coalesce(1), ctx.output(CONFUSION));
            if (withPredictions) {
                Tables.write(predictions, ctx.output(PREDICTIONS));
            }
        }

        private static Column correct() {
            return when(col("label").equalTo(col("predicted")), 1.0).otherwise(0.0);
        }
    }

    public static List<ClassAccuracy> perClass(SparkSession spark, Path evaluate) {
        return Tables.read(spark, new Path(evaluate, PER_CLASS)).orderBy("stage", "model", "label").collectAsList()
                .stream().map(r -> new ClassAccuracy(r.getAs("stage"), r.getAs("model"), r.<Integer>getAs("label"),
                        r.<Long>getAs("examples"), r.<Double>getAs("accuracy"))).toList();
    }
}

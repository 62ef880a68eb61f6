package org.sparkslim.jobs.tables;

import java.util.List;
import org.apache.hadoop.fs.Path;
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

    /** Writes a Spark aggregation's rows as one of these tables. */
    public static void write(StageContext<?> ctx, String file, Dataset<Row> rows) {
        Tables.write(rows, ctx.output(file));
    }

    public static List<ClassAccuracy> perClass(SparkSession spark, Path evaluate) {
        return Tables.read(spark, new Path(evaluate, PER_CLASS)).orderBy("stage", "model", "label").collectAsList()
                .stream().map(r -> new ClassAccuracy(r.getAs("stage"), r.getAs("model"), r.<Integer>getAs("label"),
                        r.<Long>getAs("examples"), r.<Double>getAs("accuracy"))).toList();
    }
}

package org.sparkslim.jobs.tables;

import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;

/** {@code metrics.parquet} of the evaluate stage: one row per model scored. */
public final class MetricsTable extends CheckpointTable<MetricsTable.Metrics> {
    public static final MetricsTable TABLE = new MetricsTable();

    /** @param latencyMs median milliseconds per forward pass, by batch size */
    public record Metrics(String stage, String model, String split, long examples, double top1, double loss, long macs,
                          long params, long bytes, Map<Integer, Double> latencyMs) {
    }

    private MetricsTable() {
        super("metrics.parquet", new StructType()
                .add("stage", DataTypes.StringType, false)
                .add("model", DataTypes.StringType, false)
                .add("split", DataTypes.StringType, false)
                .add("examples", DataTypes.LongType, false)
                .add("top1", DataTypes.DoubleType, false)
                .add("loss", DataTypes.DoubleType, false)
                .add("macs", DataTypes.LongType, false)
                .add("params", DataTypes.LongType, false)
                .add("bytes", DataTypes.LongType, false)
                .add("latency_ms", DataTypes.createMapType(DataTypes.IntegerType, DataTypes.DoubleType), false));
    }

    @Override
    protected Row toRow(Metrics m) {
        return RowFactory.create(m.stage(), m.model(), m.split(), m.examples(), m.top1(), m.loss(), m.macs(), m.params(),
                m.bytes(), JavaConverters.mapAsScalaMap(m.latencyMs()));
    }

    @Override
    protected Metrics fromRow(Row r) {
        return new Metrics(r.getAs("stage"), r.getAs("model"), r.getAs("split"), r.<Long>getAs("examples"),
                r.<Double>getAs("top1"), r.<Double>getAs("loss"), r.<Long>getAs("macs"), r.<Long>getAs("params"),
                r.<Long>getAs("bytes"), new TreeMap<>(r.<Integer, Double>getJavaMap(r.fieldIndex("latency_ms"))));
    }
}

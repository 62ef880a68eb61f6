package org.sparkslim.jobs.tables;

import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;

/** {@code exports.parquet}: one row per ONNX file written, with its checks and ONNX Runtime latency. */
public final class ExportsTable extends CheckpointTable<ExportsTable.Export> {
    public static final ExportsTable TABLE = new ExportsTable();

    /**
     * @param checkedImages images both runtimes ran, with the largest output difference and the top-1 agreement
     * @param testImages    for int8 exports, the test images both classified (else null, as are the top-1s)
     */
    public record Export(String stage, String model, String format, String file, long bytes, String sha256,
                         int checkedImages, double maxAbsDiff, double top1Agreement, Integer testImages, Double onnxTop1,
                         Double dl4jTop1, Map<Integer, Double> latencyMs) {
        public boolean isFloat() {
            return "onnx-float".equals(format);
        }
    }

    private ExportsTable() {
        super("exports.parquet", new StructType()
                .add("stage", DataTypes.StringType, false)
                .add("model", DataTypes.StringType, false)
                .add("format", DataTypes.StringType, false)
                .add("file", DataTypes.StringType, false)
                .add("bytes", DataTypes.LongType, false)
                .add("sha256", DataTypes.StringType, false)
                .add("checked_images", DataTypes.IntegerType, false)
                .add("max_abs_diff", DataTypes.DoubleType, false)
                .add("top1_agreement", DataTypes.DoubleType, false)
                .add("test_images", DataTypes.IntegerType, true)
                .add("onnx_top1", DataTypes.DoubleType, true)
                .add("dl4j_top1", DataTypes.DoubleType, true)
                .add("latency_ms", DataTypes.createMapType(DataTypes.IntegerType, DataTypes.DoubleType), false));
    }

    @Override
    protected Row toRow(Export e) {
        return RowFactory.create(e.stage(), e.model(), e.format(), e.file(), e.bytes(), e.sha256(), e.checkedImages(),
                e.maxAbsDiff(), e.top1Agreement(), e.testImages(), e.onnxTop1(), e.dl4jTop1(),
                JavaConverters.mapAsScalaMap(e.latencyMs()));
    }

    @Override
    protected Export fromRow(Row r) {
        return new Export(r.getAs("stage"), r.getAs("model"), r.getAs("format"), r.getAs("file"), r.<Long>getAs("bytes"),
                r.getAs("sha256"), r.<Integer>getAs("checked_images"), r.<Double>getAs("max_abs_diff"),
                r.<Double>getAs("top1_agreement"), r.getAs("test_images"), r.getAs("onnx_top1"), r.getAs("dl4j_top1"),
                new TreeMap<>(r.<Integer, Double>getJavaMap(r.fieldIndex("latency_ms"))));
    }
}

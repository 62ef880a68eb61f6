package org.sparkslim.jobs.tables;

import static org.apache.spark.sql.functions.col;

import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code sensitivities.parquet}: one row per measured point of a model (the baseline has the group
 * {@link #BASELINE}); drop is the top-1 drop relative to the baseline; reused says the point was taken
 * from an earlier run of the stage.
 */
public final class SensitivityTable extends CheckpointTable<SensitivityTable.Point> {
    public static final SensitivityTable TABLE = new SensitivityTable();
    /** The group name of the unpruned model's point. */
    public static final String BASELINE = "";

    /**
     * @param planKey identifies the exact channels removed
     * @param dataKey identifies the images and the restoration the point was scored with
     */
    public record Point(String modelSha256, String group, int size, double ratio, int kept, String criterion,
                        String planKey, String dataKey, double top1, double loss, long macs, double baselineTop1,
                        double drop, boolean reused) {
        public boolean baseline() {
            return group.equals(BASELINE);
        }
    }

    private SensitivityTable() {
        super("sensitivities.parquet", new StructType()
                .add("model_sha256", DataTypes.StringType, false)
                .add("group", DataTypes.StringType, false)
                .add("size", DataTypes.IntegerType, false)
                .add("ratio", DataTypes.DoubleType, false)
                .add("kept", DataTypes.IntegerType, false)
                .add("criterion", DataTypes.StringType, false)
                .add("plan_key", DataTypes.StringType, false)
                .add("data_key", DataTypes.StringType, false)
                .add("top1", DataTypes.DoubleType, false)
                .add("loss", DataTypes.DoubleType, false)
                .add("macs", DataTypes.LongType, false)
                .add("baseline_top1", DataTypes.DoubleType, false)
                .add("drop", DataTypes.DoubleType, false)
                .add("reused", DataTypes.BooleanType, false));
    }

    @Override
    protected Row toRow(Point p) {
        return RowFactory.create(p.modelSha256(), p.group(), p.size(), p.ratio(), p.kept(), p.criterion(), p.planKey(),
                p.dataKey(), p.top1(), p.loss(), p.macs(), p.baselineTop1(), p.drop(), p.reused());
    }

    @Override
    protected Point fromRow(Row r) {
        return new Point(r.getAs("model_sha256"), r.getAs("group"), r.<Integer>getAs("size"), r.<Double>getAs("ratio"),
                r.<Integer>getAs("kept"), r.getAs("criterion"), r.getAs("plan_key"), r.getAs("data_key"),
                r.<Double>getAs("top1"), r.<Double>getAs("loss"), r.<Long>getAs("macs"), r.<Double>getAs("baseline_top1"),
                r.<Double>getAs("drop"), r.<Boolean>getAs("reused"));
    }

    /** The points of one model, every data key. */
    public List<Point> ofModel(SparkSession spark, Path checkpoint, String modelSha256) {
        return records(dataset(spark, checkpoint).where(col("model_sha256").equalTo(modelSha256)));
    }

    /** The points of one model scored as {@code dataKey} says. */
    public List<Point> ofModel(SparkSession spark, Path checkpoint, String modelSha256, String dataKey) {
        return records(dataset(spark, checkpoint).where(col("model_sha256").equalTo(modelSha256)
                .and(col("data_key").equalTo(dataKey))));
    }

    /** Every point, by group and ratio. */
    public List<Point> sorted(SparkSession spark, Path checkpoint) {
        return records(dataset(spark, checkpoint).orderBy("group", "ratio"));
    }
}

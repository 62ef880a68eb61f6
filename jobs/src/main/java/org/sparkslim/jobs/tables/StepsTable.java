package org.sparkslim.jobs.tables;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** {@code steps.parquet} of iterative pruning: the scheduled and achieved reduction after each step. */
public final class StepsTable extends CheckpointTable<StepsTable.Step> {
    public static final StepsTable TABLE = new StepsTable();

    /** @param valTop1 after the step's fine-tuning; NaN without validation */
    public record Step(int step, double targetReduction, double achievedReduction, long macs, double valTop1) {
    }

    private StepsTable() {
        super("steps.parquet", new StructType()
                .add("step", DataTypes.IntegerType, false)
                .add("target_reduction", DataTypes.DoubleType, false)
                .add("achieved_reduction", DataTypes.DoubleType, false)
                .add("macs", DataTypes.LongType, false)
                .add("val_top1", DataTypes.DoubleType, true));
    }

    @Override
    protected Row toRow(Step s) {
        return RowFactory.create(s.step(), s.targetReduction(), s.achievedReduction(), s.macs(), nullable(s.valTop1()));
    }

    @Override
    protected Step fromRow(Row r) {
        return new Step(r.<Integer>getAs("step"), r.<Double>getAs("target_reduction"), r.<Double>getAs("achieved_reduction"),
                r.<Long>getAs("macs"), orNaN(r, "val_top1"));
    }
}

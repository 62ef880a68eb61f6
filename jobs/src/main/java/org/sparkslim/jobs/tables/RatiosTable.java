package org.sparkslim.jobs.tables;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code ratios.parquet} of a prune checkpoint: one row per channel group, then one per residual block
 * that could be or was removed (size 1; kept 0 when removed).
 */
public final class RatiosTable extends CheckpointTable<RatiosTable.Ratio> {
    public static final RatiosTable TABLE = new RatiosTable();

    /** @param producers the layers whose filters the group is, comma-separated */
    public record Ratio(String group, String producers, int size, int kept, double ratio) {
    }

    private RatiosTable() {
        super("ratios.parquet", new StructType()
                .add("group", DataTypes.StringType, false)
                .add("producers", DataTypes.StringType, false)
                .add("size", DataTypes.IntegerType, false)
                .add("kept", DataTypes.IntegerType, false)
                .add("ratio", DataTypes.DoubleType, false));
    }

    @Override
    protected Row toRow(Ratio r) {
        return RowFactory.create(r.group(), r.producers(), r.size(), r.kept(), r.ratio());
    }

    @Override
    protected Ratio fromRow(Row r) {
        return new Ratio(r.getAs("group"), r.getAs("producers"), r.<Integer>getAs("size"), r.<Integer>getAs("kept"),
                r.<Double>getAs("ratio"));
    }
}

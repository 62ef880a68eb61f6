package org.sparkslim.jobs.tables;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code feature-targets.parquet}: the feature targets a {@code soft-labels} stage stored beside the
 * logits, in the order of {@link SoftLabelsTable#FEATURES}: each one's key ({@code activation of
 * conv6.bn}, {@code FSP of conv5.bn -> conv6.bn}), its values per image and what they cost.
 */
public final class FeatureTargetsTable extends CheckpointTable<FeatureTargetsTable.Stored> {
    public static final FeatureTargetsTable TABLE = new FeatureTargetsTable();

    /** @param bytesPerImage the float32 values' size, before Parquet's encoding and compression */
    public record Stored(int position, String key, long width, long bytesPerImage) {
    }

    private FeatureTargetsTable() {
        super("feature-targets.parquet", new StructType()
                .add("position", DataTypes.IntegerType, false)
                .add("key", DataTypes.StringType, false)
                .add("width", DataTypes.LongType, false)
                .add("bytes_per_image", DataTypes.LongType, false));
    }

    @Override
    protected Row toRow(Stored s) {
        return RowFactory.create(s.position(), s.key(), s.width(), s.bytesPerImage());
    }

    @Override
    protected Stored fromRow(Row r) {
        return new Stored(r.<Integer>getAs("position"), r.getAs("key"), r.<Long>getAs("width"),
                r.<Long>getAs("bytes_per_image"));
    }
}

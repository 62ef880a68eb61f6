package org.sparkslim.jobs.tables;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sparkslim.compression.train.EpochSummary;

/** {@code history.parquet} of a training stage: one row per epoch (val columns null without validation). */
public final class HistoryTable extends CheckpointTable<EpochSummary> {
    public static final HistoryTable TABLE = new HistoryTable();

    private HistoryTable() {
        super("history.parquet", new StructType()
                .add("epoch", DataTypes.IntegerType, false)
                .add("train_loss", DataTypes.DoubleType, false)
                .add("learning_rate", DataTypes.DoubleType, false)
                .add("images_per_second", DataTypes.DoubleType, false)
                .add("seconds", DataTypes.DoubleType, false)
                .add("val_top1", DataTypes.DoubleType, true)
                .add("val_loss", DataTypes.DoubleType, true));
    }

    @Override
    protected Row toRow(EpochSummary e) {
        return RowFactory.create(e.epoch(), e.trainLoss(), e.learningRate(), e.imagesPerSecond(), e.seconds(),
                nullable(e.validationTop1()), nullable(e.validationLoss()));
    }

    @Override
    protected EpochSummary fromRow(Row r) {
        return new EpochSummary(r.<Integer>getAs("epoch"), r.<Double>getAs("train_loss"), r.<Double>getAs("learning_rate"),
                r.<Double>getAs("images_per_second"), r.<Double>getAs("seconds"), orNaN(r, "val_top1"),
                orNaN(r, "val_loss"));
    }
}

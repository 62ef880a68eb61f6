package org.sparkslim.jobs.tables;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** The two tables of a quantized checkpoint (qat, ptq): activation ranges and per-layer errors. */
public final class QuantizationTables {
    public static final CheckpointTable<Range> RANGES = new RangesTable();
    public static final CheckpointTable<LayerSqnr> LAYER_ERRORS = new LayerErrorsTable();

    private QuantizationTables() {
    }

    /** One activation quantizer: the tensor it quantizes, its grid and its frozen range. */
    public record Range(String quantizer, String tensor, boolean signed, double range, double scale) {
    }

    /** One quantized layer's output error against the float network, over the calibration images. */
    public record LayerSqnr(String layer, double sqnrDb, double cosine, long values) {
    }

    private static final class RangesTable extends CheckpointTable<Range> {
        RangesTable() {
            super("ranges.parquet", new StructType()
                    .add("quantizer", DataTypes.StringType, false)
                    .add("tensor", DataTypes.StringType, false)
                    .add("signed", DataTypes.BooleanType, false)
                    .add("range", DataTypes.DoubleType, false)
                    .add("scale", DataTypes.DoubleType, false));
        }

        @Override
        protected Row toRow(Range r) {
            return RowFactory.create(r.quantizer(), r.tensor(), r.signed(), r.range(), r.scale());
        }

        @Override
        protected Range fromRow(Row r) {
            return new Range(r.getAs("quantizer"), r.getAs("tensor"), r.<Boolean>getAs("signed"), r.<Double>getAs("range"),
                    r.<Double>getAs("scale"));
        }
    }

    private static final class LayerErrorsTable extends CheckpointTable<LayerSqnr> {
        LayerErrorsTable() {
            super("layer-errors.parquet", new StructType()
                    .add("layer", DataTypes.StringType, false)
                    .add("sqnr_db", DataTypes.DoubleType, false)
                    .add("cosine", DataTypes.DoubleType, false)
                    .add("values", DataTypes.LongType, false));
        }

        @Override
        protected Row toRow(LayerSqnr e) {
            return RowFactory.create(e.layer(), e.sqnrDb(), e.cosine(), e.values());
        }

        @Override
        protected LayerSqnr fromRow(Row r) {
            return new LayerSqnr(r.getAs("layer"), r.<Double>getAs("sqnr_db"), r.<Double>getAs("cosine"),
                    r.<Long>getAs("values"));
        }
    }
}

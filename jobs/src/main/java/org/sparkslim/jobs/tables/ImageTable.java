package org.sparkslim.jobs.tables;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The schema of every prepared split ({@code prepare-data/<split>.parquet}):
 * <ul>
 *   <li>{@code id} long: the example's index in its source, stable across runs;</li>
 *   <li>{@code label} int: the class, 0 to classes - 1;</li>
 *   <li>{@code image} binary: channels x height x width unsigned bytes, channels first, row-major.</li>
 * </ul>
 */
public final class ImageTable {
    public static final String ID = "id";
    public static final String LABEL = "label";
    public static final String IMAGE = "image";
    public static final StructType SCHEMA = new StructType()
            .add(ID, DataTypes.LongType, false)
            .add(LABEL, DataTypes.IntegerType, false)
            .add(IMAGE, DataTypes.BinaryType, false);
    public static final String[] SPLITS = {"train", "val", "test"};

    private ImageTable() {
    }

    public static String file(String split) {
        return split + ".parquet";
    }
}

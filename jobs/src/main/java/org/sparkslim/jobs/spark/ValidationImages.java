package org.sparkslim.jobs.spark;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.jobs.tables.ImageTable;

/**
 * The first N images of a prepared split, in memory, for work that scores many candidates on the
 * same small set (sensitivity analysis, search rewards). The count is bounded by the caller's
 * config, so a large split is never pulled whole into the driver by accident.
 */
public final class ValidationImages {
    /** More than any validation set meant to be broadcast; a larger one is refused. */
    public static final int MAX = 200_000;

    private ValidationImages() {
    }

    /** @param limit how many (by id order); 0 for the whole split, which must then hold at most {@link #MAX} */
    public static LabeledImages firstN(SparkSession spark, String parquet, ImageShape shape, int limit) {
        List<Row> rows = spark.read().parquet(parquet).orderBy(ImageTable.ID)
                .limit(limit > 0 ? limit : MAX + 1).select(ImageTable.LABEL, ImageTable.IMAGE).collectAsList();
        if (rows.size() > MAX) {
            throw new IllegalArgumentException(parquet + " has more than " + MAX
                    + " images; set a smaller image count (max-images) for in-memory scoring");
        }
        byte[] pixels = new byte[rows.size() * shape.pixels()];
        int[] labels = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            labels[i] = rows.get(i).getInt(0);
            System.arraycopy((byte[]) rows.get(i).get(1), 0, pixels, i * shape.pixels(), shape.pixels());
        }
        return new LabeledImages(shape, pixels, labels);
    }
}

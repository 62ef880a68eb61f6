package org.sparkslim.jobs.tables;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;

/**
 * {@code soft-labels.parquet}: a teacher's logits (the output layer's values before the softmax) for
 * every image of a split, by image id, with its label. Logits rather than probabilities, so that soft
 * labels at any temperature come out exact; float32, {@code 4 x classes} bytes per image before
 * Parquet's encoding.
 */
public final class SoftLabelsTable extends CheckpointTable<SoftLabelsTable.Target> {
    public static final SoftLabelsTable TABLE = new SoftLabelsTable();
    public static final String LOGITS = "logits";

    public record Target(long id, int label, float[] logits) {
    }

    private SoftLabelsTable() {
        super("soft-labels.parquet", new StructType()
                .add(ImageTable.ID, DataTypes.LongType, false)
                .add(ImageTable.LABEL, DataTypes.IntegerType, false)
                .add(LOGITS, DataTypes.createArrayType(DataTypes.FloatType, false), false));
    }

    @Override
    protected Row toRow(Target t) {
        return row(t.id(), t.label(), t.logits());
    }

    /** A row of this table (its array a Scala sequence: rows made in executors go through Spark's encoder). */
    public static Row row(long id, int label, float[] logits) {
        List<Float> boxed = new ArrayList<>(logits.length);
        for (float z : logits) {
            boxed.add(z);
        }
        return RowFactory.create(id, label, JavaConverters.asScalaBuffer(boxed).toSeq());
    }

    @Override
    protected Target fromRow(Row r) {
        List<Float> logits = r.getList(r.fieldIndex(LOGITS));
        float[] values = new float[logits.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = logits.get(i);
        }
        return new Target(r.<Long>getAs(ImageTable.ID), r.<Integer>getAs(ImageTable.LABEL), values);
    }
}

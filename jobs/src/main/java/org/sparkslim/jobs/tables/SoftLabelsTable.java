package org.sparkslim.jobs.tables;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;

/**
 * {@code soft-labels.parquet}: a teacher's logits (the output layer's values before the softmax) for
 * every image of a split, by image id, with its label, and the feature targets the stage was asked
 * for ({@link FeatureTargetsTable} names them, in this order). Logits rather than probabilities, so
 * that soft labels at any temperature come out exact. Float32 throughout: {@code 4 x classes} bytes
 * per image for the logits; each target is its float32 values as little-endian bytes (4 per value),
 * which Spark and Parquet move as one value rather than one per element.
 */
public final class SoftLabelsTable extends CheckpointTable<SoftLabelsTable.Target> {
    public static final SoftLabelsTable TABLE = new SoftLabelsTable();
    public static final String LOGITS = "logits";
    public static final String FEATURES = "features";

    /** @param features one array per stored feature target, in the order of {@link FeatureTargetsTable} */
    public record Target(long id, int label, float[] logits, float[][] features) {
    }

    private SoftLabelsTable() {
        super("soft-labels.parquet", new StructType()
                .add(ImageTable.ID, DataTypes.LongType, false)
                .add(ImageTable.LABEL, DataTypes.IntegerType, false)
                .add(LOGITS, DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add(FEATURES, DataTypes.createArrayType(DataTypes.BinaryType, false), false));
    }

    @Override
    protected Row toRow(Target t) {
        return row(t.id(), t.label(), t.logits(), t.features());
    }

    /** A row of this table (its arrays Scala sequences: rows made in executors go through Spark's encoder). */
    public static Row row(long id, int label, float[] logits, float[][] features) {
        List<Float> boxed = new ArrayList<>(logits.length);
        for (float z : logits) {
            boxed.add(z);
        }
        List<byte[]> targets = new ArrayList<>(features.length);
        for (float[] f : features) {
            targets.add(bytes(f));
        }
        return RowFactory.create(id, label, JavaConverters.asScalaBuffer(boxed).toSeq(),
                JavaConverters.asScalaBuffer(targets).toSeq());
    }

    @Override
    protected Target fromRow(Row r) {
        List<byte[]> features = r.getList(r.fieldIndex(FEATURES));
        float[][] targets = new float[features.size()][];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = floats(features.get(i));
        }
        return new Target(r.<Long>getAs(ImageTable.ID), r.<Integer>getAs(ImageTable.LABEL),
                floats(r.getList(r.fieldIndex(LOGITS))), targets);
    }

    /** Float32 values as little-endian bytes, as the features column stores them. */
    public static byte[] bytes(float[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(Float.BYTES * values.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return buffer.array();
    }

    /** A stored feature target's values. */
    public static float[] floats(byte[] bytes) {
        float[] values = new float[bytes.length / Float.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    /** A float array column's value (as {@link Row#getList} gives it) as floats. */
    public static float[] floats(List<Float> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }
}

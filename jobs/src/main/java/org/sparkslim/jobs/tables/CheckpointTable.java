package org.sparkslim.jobs.tables;

import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.sparkslim.jobs.pipeline.StageContext;

/**
 * One Parquet table of a stage's checkpoint, typed: its file name, its schema, and how a record
 * becomes a row and back. The stage that writes it and every stage that reads it use this class;
 * no column is named anywhere else.
 *
 * @param <R> one row, as a record
 */
public abstract class CheckpointTable<R> {
    private final String file;
    private final StructType schema;

    protected CheckpointTable(String file, StructType schema) {
        this.file = file;
        this.schema = schema;
    }

    public String file() {
        return file;
    }

    public StructType schema() {
        return schema;
    }

    protected abstract Row toRow(R record);

    protected abstract R fromRow(Row row);

    /** Writes the records into the running stage's output, as one file. */
    public void write(StageContext<?> ctx, List<R> records) {
        write(ctx.spark(), ctx.output(), records);
    }

    /**
     * Writes rows computed on the cluster into the running stage's output, as they are partitioned:
     * the driver never holds them. Their columns must be this table's.
     */
    public void write(StageContext<?> ctx, Dataset<Row> rows) {
        if (!sameColumns(rows.schema())) {
            throw new IllegalStateException(file + ": rows with columns " + rows.schema().simpleString()
                    + " where the table has " + schema.simpleString());
        }
        Tables.write(rows, ctx.output(file));
    }

    private boolean sameColumns(StructType other) {
        if (other.fields().length != schema.fields().length) {
            return false;
        }
        for (int i = 0; i < schema.fields().length; i++) {
            if (!schema.fields()[i].name().equals(other.fields()[i].name())
                    || !schema.fields()[i].dataType().sameType(other.fields()[i].dataType())) {
                return false;
            }
        }
        return true;
    }

    /** Writes the records as this table of {@code directory} (a stage's resume area, say), as one file. */
    public void write(SparkSession spark, Path directory, List<R> records) {
        List<Row> rows = new ArrayList<>(records.size());
        records.forEach(r -> rows.add(toRow(r)));
        Tables.write(spark, new Path(directory, file), schema, rows);
    }

    /** The table of a completed checkpoint, to filter with Spark before collecting. */
    public Dataset<Row> dataset(SparkSession spark, Path checkpoint) {
        return Tables.read(spark, new Path(checkpoint, file));
    }

    /** Every record of a completed checkpoint's table. */
    public List<R> read(SparkSession spark, Path checkpoint) {
        return records(dataset(spark, checkpoint));
    }

    /** The records of rows of this table (filtered or sorted by the caller). */
    public List<R> records(Dataset<Row> rows) {
        List<R> records = new ArrayList<>();
        for (Row r : rows.collectAsList()) {
            records.add(fromRow(r));
        }
        return records;
    }

    /** A nullable double column: NaN is stored as null (absent). */
    protected static Double nullable(double value) {
        return Double.isNaN(value) ? null : value;
    }

    protected static double orNaN(Row row, String column) {
        return row.isNullAt(row.fieldIndex(column)) ? Double.NaN : row.<Double>getAs(column);
    }
}

package org.sparkslim.jobs.tables;

import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/** Small driver-side tables (metrics, model lists, history) written as single-file Parquet. */
public final class Tables {
    private Tables() {
    }

    public static Dataset<Row> of(SparkSession spark, StructType schema, List<Row> rows) {
        return spark.createDataFrame(rows, schema);
    }

    public static void write(SparkSession spark, Path path, StructType schema, List<Row> rows) {
        write(of(spark, schema, rows).coalesce(1), path);
    }

    public static void write(Dataset<Row> table, Path path) {
        table.write().mode(SaveMode.ErrorIfExists).parquet(path.toString());
    }

    public static Dataset<Row> read(SparkSession spark, Path path) {
        return spark.read().parquet(path.toString());
    }
}

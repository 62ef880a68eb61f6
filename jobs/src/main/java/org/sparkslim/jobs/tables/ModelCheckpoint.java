package org.sparkslim.jobs.tables;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.jobs.pipeline.RunDirectory;
import org.sparkslim.jobs.pipeline.StageContext;

/**
 * The models of a stage: one DL4J model file each plus a row in {@code models.parquet} (name, file,
 * SHA-256, family, widths, MACs, params, bytes). Reading checks the hash, so a modified checkpoint
 * is refused rather than silently used.
 */
public final class ModelCheckpoint {
    /** {@code models.parquet}: one row per model file of the checkpoint. */
    public static final CheckpointTable<ModelRecord> TABLE = new CheckpointTable<>("models.parquet", new StructType()
            .add("name", DataTypes.StringType, false)
            .add("file", DataTypes.StringType, false)
            .add("sha256", DataTypes.StringType, false)
            .add("family", DataTypes.StringType, false)
            .add("widths", DataTypes.StringType, false)
            .add("macs", DataTypes.LongType, false)
            .add("params", DataTypes.LongType, false)
            .add("bytes", DataTypes.LongType, false)) {
        @Override
        protected Row toRow(ModelRecord r) {
            return RowFactory.create(r.name(), r.file(), r.sha256(), r.family(), r.widths(), r.macs(), r.params(),
                    r.bytes());
        }

        @Override
        protected ModelRecord fromRow(Row r) {
            return new ModelRecord(r.getAs("name"), r.getAs("file"), r.getAs("sha256"), r.getAs("family"),
                    r.getAs("widths"), r.<Long>getAs("macs"), r.<Long>getAs("params"), r.<Long>getAs("bytes"));
        }
    };

    /** The name of the model of a stage that produces one. */
    public static final String SINGLE = "model";

    private ModelCheckpoint() {
    }

    /** The outputs of a stage that produces one model: its file, {@code models.parquet}, then {@code more}. */
    public static List<String> singleModelOutputs(String... more) {
        List<String> files = new ArrayList<>(List.of(SINGLE + ".zip", TABLE.file()));
        files.addAll(List.of(more));
        return files;
    }

    /** A model of a checkpoint with its network and file content. */
    public record Loaded(ModelRecord record, ComputationGraph net, byte[] bytes) {
    }

    /** Writes one model file into the stage's output and returns its row. */
    public static ModelRecord writeModel(StageContext<?> ctx, String name, ComputationGraph net, String family,
                                         String widths, ImageShape input) throws IOException {
        byte[] bytes = ModelFiles.toBytes(net);
        String file = name + ".zip";
        ctx.run().writeAtomically(ctx.output(file), bytes);
        ModelCost cost = ModelCost.of(net, input);
        return new ModelRecord(name, file, ModelFiles.sha256(bytes), family, widths, cost.macs(), cost.params(),
                bytes.length);
    }

    /** Writes the one model of a stage that produces one, named {@link #SINGLE}, and its table. */
    public static void writeSingle(StageContext<?> ctx, ComputationGraph net, String family, String widths,
                                   ImageShape input) throws IOException {
        writeTable(ctx, List.of(writeModel(ctx, SINGLE, net, family, widths, input)));
    }

    public static void writeTable(StageContext<?> ctx, List<ModelRecord> records) {
        TABLE.write(ctx, records);
    }

    public static List<ModelRecord> read(SparkSession spark, RunDirectory run, String stage) {
        return TABLE.read(spark, run.stage(stage));
    }

    /** The one model of a stage's checkpoint (named {@link #SINGLE}). */
    public static Loaded loadSingle(StageContext<?> ctx, String stage) throws IOException {
        ctx.input(stage);
        List<ModelRecord> records = read(ctx.spark(), ctx.run(), stage);
        if (records.size() != 1) {
            throw new IOException("stage '" + stage + "' has " + records.size() + " models in " + TABLE.file()
                    + "; expected exactly one");
        }
        return load(ctx.run(), stage, records.get(0));
    }

    public static Loaded load(RunDirectory run, String stage, ModelRecord record) throws IOException {
        Path file = new Path(run.stage(stage), record.file());
        byte[] bytes = run.read(file);
        String hash = ModelFiles.sha256(bytes);
        if (!hash.equals(record.sha256())) {
            throw new IOException(file + ": content hash " + hash + " does not match " + record.sha256()
                    + " recorded in " + TABLE.file() + "; the checkpoint was modified after it was written");
        }
        return new Loaded(record, ModelFiles.fromBytes(bytes, file.toString()), bytes);
    }
}

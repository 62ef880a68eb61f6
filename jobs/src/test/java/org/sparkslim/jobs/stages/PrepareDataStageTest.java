package org.sparkslim.jobs.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.InvalidDataException;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.config.RunConfig;
import org.sparkslim.jobs.pipeline.Pipeline;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.LocalSpark;

/** Users' own Parquet data: accepted as configured, refused with the file and column named when it is not. */
class PrepareDataStageTest {
    @RegisterExtension
    static final LocalSpark SPARK = new LocalSpark("local[2]", "prepare-data-test");

    private final SparkSession spark = SPARK.session();

    @TempDir
    Path dir;

    /** 4x4 single-channel images; rows of (key, cls, pixels). */
    String dataset(String name, StructType schema, List<Row> rows) {
        String path = dir.resolve(name).toString();
        spark.createDataFrame(rows, schema).write().parquet(path);
        return path;
    }

    static final StructType OWN = new StructType().add("key", DataTypes.LongType).add("cls", DataTypes.IntegerType)
            .add("pixels", DataTypes.BinaryType);

    static List<Row> rows(int n, int maxLabel, int pixels) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(RowFactory.create((long) i, i % (maxLabel + 1), new byte[pixels]));
        }
        return rows;
    }

    void run(String train, String... overrides) throws Exception {
        List<String> o = new ArrayList<>(List.of("run.dir=\"" + dir.resolve("run") + "\"", "pipeline.stages=[prepare-data]",
                "data.source=parquet", "data.parquet.train=\"" + train + "\"",
                "data.parquet.val=\"" + train + "\"", "data.parquet.test=\"" + train + "\"",
                "data.columns.id=key", "data.columns.label=cls", "data.columns.image=pixels",
                "data.image.height=4", "data.image.width=4", "data.num-classes=3"));
        o.addAll(List.of(overrides));
        new Pipeline(Stages.all(), "test").run(spark, RunConfig.load(List.of(), o), null);
    }

    @Test
    void acceptsOwnColumnNamesAndShape() throws Exception {
        run(dataset("ok", OWN, rows(10, 2, 16)));
        Row r = spark.read().parquet(dir.resolve("run/prepare-data/train.parquet").toString()).orderBy("id").first();
        assertEquals(0L, r.getLong(0));
        assertEquals(16, ((byte[]) r.get(2)).length);
    }

    @Test
    void labelsOutOfRangeAreRefused() {
        String bad = dataset("labels", OWN, rows(10, 5, 16));
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> run(bad));
        assertTrue(e.getMessage().contains(bad) && e.getMessage().contains("labels range from 0 to 5"), e.getMessage());
    }

    /** A label that does not fit an int is refused as it is, not wrapped into a valid class by a cast. */
    @Test
    void aLabelTooLargeForAnIntIsNotWrappedIntoRange() {
        StructType longLabels = new StructType().add("key", DataTypes.LongType).add("cls", DataTypes.LongType)
                .add("pixels", DataTypes.BinaryType);
        String bad = dataset("wide", longLabels, List.of(RowFactory.create(1L, 4294967298L, new byte[16]),
                RowFactory.create(2L, 1L, new byte[16])));
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> run(bad));
        assertTrue(e.getMessage().contains("labels range from 1 to 4294967298"), e.getMessage());
    }

    @Test
    void nullLabelsOrImagesAreRefusedWithTheirCountAndFirstIds() {
        List<Row> rows = new ArrayList<>(rows(6, 2, 16));
        rows.set(2, RowFactory.create(2L, null, new byte[16]));
        rows.set(4, RowFactory.create(4L, 1, null));
        String bad = dataset("nulls", OWN, rows);
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> run(bad));
        assertTrue(e.getMessage().contains("2 rows have a null id, label or image") && e.getMessage().contains("2, 4"),
                e.getMessage());
    }

    @Test
    void wrongImageSizeIsRefused() {
        String bad = dataset("size", OWN, rows(10, 2, 15));
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> run(bad));
        assertTrue(e.getMessage().contains(bad) && e.getMessage().contains("needs exactly 16"), e.getMessage());
    }

    @Test
    void wrongColumnTypeIsRefused() {
        StructType stringLabels = new StructType().add("key", DataTypes.LongType).add("cls", DataTypes.StringType)
                .add("pixels", DataTypes.BinaryType);
        List<Row> rows = List.of(RowFactory.create(1L, "shirt", new byte[16]));
        String bad = dataset("types", stringLabels, rows);
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> run(bad));
        assertTrue(e.getMessage().contains("column 'cls' (data.columns.label) is string"), e.getMessage());
    }

    @Test
    void missingDatasetIsNamedBeforeAnyStageRuns() {
        String missing = dir.resolve("nope.parquet").toString();
        ConfigException e = assertThrows(ConfigException.class, () -> run(missing));
        assertTrue(e.getMessage().contains("key 'data.parquet.train'") && e.getMessage().contains(missing),
                e.getMessage());
    }

    /** The signature covers the input's files, not only its path: data repaired in place is read again. */
    @Test
    void anInputRepairedInPlaceIsPreparedAgain() throws Exception {
        String data = dataset("repaired", OWN, rows(10, 2, 16));
        run(data);
        Path prepared = dir.resolve("run/prepare-data/_SUCCESS");
        String first = Files.readString(prepared);
        run(data);
        assertEquals(first, Files.readString(prepared), "the same files: the checkpoint is reused");
        spark.createDataFrame(rows(12, 2, 16), OWN).write().mode("overwrite").parquet(data);
        run(data);
        assertTrue(!first.equals(Files.readString(prepared)), "new files: prepared again");
        assertEquals(12, spark.read().parquet(dir.resolve("run/prepare-data/train.parquet").toString()).count());
    }

    /** Executors must run with oneDNN too: the broadcast model's copies use the helpers. */
    @Test
    void executorModelCopiesUseTheOneDnnHelpers() {
        ModelFamily f = ModelZoo.family("vgg");
        byte[] bytes = ModelFiles.toBytes(f.build(f.spec(f.baseWidths().scaled(0.25), new ImageShape(1, 28, 28), 10, 1)));
        BroadcastModel model = BroadcastModel.of(spark, bytes, ModelFiles.sha256(bytes));
        List<Boolean> perTask = spark.range(0, 2, 1, 2).javaRDD().mapPartitions(it -> {
            ComputationGraph net = model.local();
            net.outputSingle(false, Nd4j.rand(DataType.FLOAT, 1, 1, 28, 28));
            return List.of(OneDnn.convolutionsUseOneDnn(net)).iterator();
        }).collect();
        assertEquals(List.of(true, true), perTask);
    }
}

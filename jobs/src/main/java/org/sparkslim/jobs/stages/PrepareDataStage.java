package org.sparkslim.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.StructField;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.IdxReader;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.InvalidDataException;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.Tables;

/**
 * Turns the source data into the three Parquet splits every later stage reads, in the schema of
 * {@link ImageTable}. Sources: the Fashion-MNIST idx files (split as the benchmark defines) or the
 * user's own Parquet datasets, whose columns, label range and image size are checked here.
 */
public final class PrepareDataStage implements Stage<PrepareDataStage.Settings> {
    private static final Logger LOG = LoggerFactory.getLogger(PrepareDataStage.class);
    /** The benchmark's validation split: the last 5,000 images of the training file. */
    static final int FASHION_VAL_SIZE = 5_000;

    /**
     * @param fashionDir where the idx files are ({@code fashion-mnist} source; else empty)
     * @param parquet    the user's dataset of each split ({@code parquet} source; else empty)
     * @param limits     rows kept of each split (0: all)
     */
    public record Settings(String source, String fashionDir, Map<String, String> parquet, Columns columns,
                           ImageShape shape, int numClasses, Map<String, Integer> limits, int partitions) {
    }

    /** The source Parquet's column names ({@code data.columns}). */
    public record Columns(String id, String label, String image) {
    }

    @Override
    public String name() {
        return "prepare-data";
    }

    @Override
    public String description() {
        return "source data (Fashion-MNIST idx or Parquet) -> train/val/test Parquet splits";
    }

    @Override
    public Settings settings(SettingsReader r) {
        String source = r.choice("data.source", List.of("fashion-mnist", "parquet"));
        boolean idx = source.equals("fashion-mnist");
        Map<String, String> parquet = new LinkedHashMap<>();
        Map<String, Integer> limits = new LinkedHashMap<>();
        for (String split : ImageTable.SPLITS) {
            if (!idx) {
                String key = "data.parquet." + split;
                String dataset = r.nonEmpty(key, "no Parquet dataset given for the " + split
                        + " split (data.source = parquet)");
                if (!dataset.isBlank()) {
                    r.fingerprint(key, dataset, false);
                }
                parquet.put(split, dataset);
            }
            limits.put(split, r.integer("data.limit." + split, Range.NON_NEGATIVE));
        }
        Columns columns = idx ? null : new Columns(r.string("data.columns.id"), r.string("data.columns.label"),
                r.string("data.columns.image"));
        String fashionDir = idx ? r.string("data.fashion-mnist.dir") : "";
        if (idx) {
            r.fingerprint("data.fashion-mnist.dir", fashionDir, true);
        }
        return new Settings(source, fashionDir, parquet, columns,
                DataSettings.shape(r), DataSettings.numClasses(r), limits, r.integer("data.partitions", Range.atLeast(1)));
    }

    @Override
    public List<String> inputs(Settings settings) {
        return List.of();
    }

    @Override
    public List<String> outputs(Settings settings) {
        return List.of("train.parquet", "val.parquet", "test.parquet");
    }

    @Override
    public void run(StageContext<Settings> ctx) {
        Settings s = ctx.settings();
        for (String split : ImageTable.SPLITS) {
            ctx.describe("writing the " + split + " split");
            Dataset<Row> rows = s.source().equals("fashion-mnist") ? fromIdx(ctx.spark(), s, split)
                    : fromParquet(ctx.spark(), s, split);
            int limit = s.limits().get(split);
            if (limit > 0) {
                rows = rows.orderBy(ImageTable.ID).limit(limit);
            }
            Dataset<Row> out = rows.repartitionByRange(s.partitions(), col(ImageTable.ID));
            Tables.write(out, ctx.output(ImageTable.file(split)));
            LOG.info("{}: {} examples", split, Tables.read(ctx.spark(), ctx.output(ImageTable.file(split))).count());
        }
    }

    private static Dataset<Row> fromIdx(SparkSession spark, Settings s, String split) {
        Path dir = Path.of(s.fashionDir());
        ImageShape expected = s.shape();
        int classes = s.numClasses();
        boolean test = split.equals("test");
        String prefix = test ? "t10k" : "train";
        LabeledImages all = IdxReader.readLabeled(dir.resolve(prefix + "-images-idx3-ubyte.gz"),
                dir.resolve(prefix + "-labels-idx1-ubyte.gz"), classes);
        if (!all.shape().equals(expected)) {
            throw new InvalidDataException(dir + ": idx images are " + all.shape() + " but data.image says " + expected);
        }
        int from = 0;
        int to = all.size();
        if (!test) {
            if (all.size() <= FASHION_VAL_SIZE) {
                throw new InvalidDataException(dir.resolve(prefix + "-images-idx3-ubyte.gz") + ": " + all.size()
                        + " images, too few for a validation split of " + FASHION_VAL_SIZE);
            }
            int boundary = all.size() - FASHION_VAL_SIZE;
            from = split.equals("train") ? 0 : boundary;
            to = split.equals("train") ? boundary : all.size();
        }
        List<Row> rows = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            rows.add(RowFactory.create((long) i, all.labels()[i], all.image(i)));
        }
        // The idx files live on the driver; ship them in slices of about 1 MB so no task is huge.
        int slices = Math.max(1, (int) ((long) rows.size() * expected.pixels() / (1 << 20)));
        return spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, slices),
                ImageTable.SCHEMA);
    }

    private static Dataset<Row> fromParquet(SparkSession spark, Settings s, String split) {
        String file = s.parquet().get(split);
        Dataset<Row> raw;
        try {
            raw = spark.read().parquet(file);
        } catch (Exception e) {
            throw new InvalidDataException(file + ": cannot read as Parquet (" + firstLine(e) + ")", e);
        }
        String id = s.columns().id();
        String label = s.columns().label();
        String image = s.columns().image();
        requireColumn(raw, file, id, "data.columns.id", IntegralType.class);
        requireColumn(raw, file, label, "data.columns.label", IntegralType.class);
        requireColumn(raw, file, image, "data.columns.image", BinaryType.class);
        // checked on the source's own columns, before any cast could wrap a label into range
        Dataset<Row> source = raw.select(col(id).cast(DataTypes.LongType).as(ImageTable.ID),
                col(label).cast(DataTypes.LongType).as(ImageTable.LABEL), col(image).as(ImageTable.IMAGE));
        checkContent(source, file, s);
        return source.withColumn(ImageTable.LABEL, col(ImageTable.LABEL).cast(DataTypes.IntegerType));
    }

    private static void requireColumn(Dataset<Row> raw, String file, String column, String key,
                                      Class<? extends DataType> type) {
        StructField field = Arrays.stream(raw.schema().fields()).filter(f -> f.name().equals(column)).findFirst()
                .orElseThrow(() -> new InvalidDataException(file + ": no column '" + column + "' (set by " + key
                        + "); the dataset has " + Arrays.toString(raw.schema().fieldNames())));
        if (!type.isInstance(field.dataType())) {
            throw new InvalidDataException(file + ": column '" + column + "' (" + key + ") is "
                    + field.dataType().simpleString() + ", expected "
                    + (type == BinaryType.class ? "binary (the image bytes)" : "an integer type"));
        }
    }

    /** Refuses nulls, labels outside the classes and images of the wrong size, naming the file and the count. */
    private static void checkContent(Dataset<Row> rows, String file, Settings s) {
        int classes = s.numClasses();
        int pixels = s.shape().pixels();
        Column anyNull = col(ImageTable.ID).isNull().or(col(ImageTable.LABEL).isNull()).or(col(ImageTable.IMAGE).isNull());
        Row stats = rows.agg(count(when(anyNull, 1)), min(ImageTable.LABEL), max(ImageTable.LABEL),
                min(length(col(ImageTable.IMAGE))), max(length(col(ImageTable.IMAGE))), count(lit(1))).first();
        if (stats.getLong(5) == 0) {
            throw new InvalidDataException(file + ": the dataset is empty");
        }
        long nulls = stats.getLong(0);
        if (nulls > 0) {
            List<String> ids = rows.where(anyNull).select(ImageTable.ID).orderBy(ImageTable.ID).limit(5)
                    .collectAsList().stream().map(r -> r.isNullAt(0) ? "null" : Long.toString(r.getLong(0))).toList();
            throw new InvalidDataException(file + ": " + nulls + " rows have a null id, label or image (data.columns); "
                    + "the first ids: " + String.join(", ", ids));
        }
        long minLabel = stats.getLong(1);
        long maxLabel = stats.getLong(2);
        if (minLabel < 0 || maxLabel >= classes) {
            throw new InvalidDataException(file + ": labels range from " + minLabel + " to " + maxLabel
                    + ", outside 0.." + (classes - 1) + " (data.num-classes = " + classes + ")");
        }
        if (stats.getInt(3) != pixels || stats.getInt(4) != pixels) {
            throw new InvalidDataException(file + ": image sizes range from " + stats.getInt(3) + " to " + stats.getInt(4)
                    + " bytes; data.image " + s.shape() + " needs exactly " + pixels);
        }
    }

    private static String firstLine(Exception e) {
        String m = e instanceof AnalysisException a ? a.getSimpleMessage() : String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}

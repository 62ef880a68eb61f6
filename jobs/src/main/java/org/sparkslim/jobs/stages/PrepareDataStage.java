package org.sparkslim.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.AnalysisException;
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
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.Tables;

/**
 * Turns the source data into the three Parquet splits every later stage reads, in the schema of
 * {@link ImageTable}. Sources: the Fashion-MNIST idx files (split as the benchmark defines) or the
 * user's own Parquet datasets, whose columns, label range and image size are checked here.
 */
public final class PrepareDataStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(PrepareDataStage.class);
    /** The benchmark's validation split: the last 5,000 images of the training file. */
    static final int FASHION_VAL_SIZE = 5_000;

    @Override
    public String name() {
        return "prepare-data";
    }

    @Override
    public String description() {
        return "source data (Fashion-MNIST idx or Parquet) -> train/val/test Parquet splits";
    }

    @Override
    public List<String> configPaths() {
        return List.of("data.source", "data.fashion-mnist", "data.parquet", "data.columns", "data.image",
                "data.num-classes", "data.limit", "data.partitions");
    }

    @Override
    public List<String> inputs(Config config) {
        return List.of();
    }

    @Override
    public List<String> outputs() {
        return List.of("train.parquet", "val.parquet", "test.parquet");
    }

    @Override
    public void run(StageContext ctx) {
        Config c = ctx.config();
        String source = c.getString("data.source");
        for (String split : ImageTable.SPLITS) {
            ctx.describe("writing the " + split + " split");
            Dataset<Row> rows = switch (source) {
                case "fashion-mnist" -> fromIdx(ctx.spark(), c, split);
                case "parquet" -> fromParquet(ctx.spark(), c, split);
                default -> throw new ConfigException("data.source: unknown source '" + source
                        + "'; use fashion-mnist or parquet");
            };
            int limit = c.getInt("data.limit." + split);
            if (limit > 0) {
                rows = rows.orderBy(ImageTable.ID).limit(limit);
            }
            Dataset<Row> out = rows.repartitionByRange(c.getInt("data.partitions"), col(ImageTable.ID));
            Tables.write(out, ctx.output(ImageTable.file(split)));
            LOG.info("{}: {} examples", split, Tables.read(ctx.spark(), ctx.output(ImageTable.file(split))).count());
        }
    }

    private static Dataset<Row> fromIdx(SparkSession spark, Config c, String split) {
        Path dir = Path.of(c.getString("data.fashion-mnist.dir"));
        ImageShape expected = ImageTable.shape(c);
        int classes = c.getInt("data.num-classes");
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

    private static Dataset<Row> fromParquet(SparkSession spark, Config c, String split) {
        String file = c.getString("data.parquet." + split);
        if (file.isEmpty()) {
            throw new ConfigException("data.parquet." + split + ": no Parquet dataset given for the " + split
                    + " split (data.source = parquet)");
        }
        Dataset<Row> raw;
        try {
            raw = spark.read().parquet(file);
        } catch (Exception e) {
            throw new InvalidDataException(file + ": cannot read as Parquet (" + firstLine(e) + ")", e);
        }
        String id = c.getString("data.columns.id");
        String label = c.getString("data.columns.label");
        String image = c.getString("data.columns.image");
        requireColumn(raw, file, id, "data.columns.id", IntegralType.class);
        requireColumn(raw, file, label, "data.columns.label", IntegralType.class);
        requireColumn(raw, file, image, "data.columns.image", BinaryType.class);
        Dataset<Row> rows = raw.select(col(id).cast(DataTypes.LongType).as(ImageTable.ID),
                col(label).cast(DataTypes.IntegerType).as(ImageTable.LABEL),
                col(image).as(ImageTable.IMAGE));
        checkContent(rows, file, c);
        return rows;
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

    private static void checkContent(Dataset<Row> rows, String file, Config c) {
        int classes = c.getInt("data.num-classes");
        int pixels = ImageTable.shape(c).pixels();
        Row stats = rows.agg(min(ImageTable.LABEL), max(ImageTable.LABEL), min(length(col(ImageTable.IMAGE))),
                max(length(col(ImageTable.IMAGE)))).first();
        if (stats.isNullAt(0)) {
            throw new InvalidDataException(file + ": the dataset is empty");
        }
        int minLabel = stats.getInt(0);
        int maxLabel = stats.getInt(1);
        if (minLabel < 0 || maxLabel >= classes) {
            throw new InvalidDataException(file + ": labels range from " + minLabel + " to " + maxLabel
                    + ", outside 0.." + (classes - 1) + " (data.num-classes = " + classes + ")");
        }
        if (stats.getInt(2) != pixels || stats.getInt(3) != pixels) {
            throw new InvalidDataException(file + ": image sizes range from " + stats.getInt(2) + " to " + stats.getInt(3)
                    + " bytes; data.image " + ImageTable.shape(c) + " needs exactly " + pixels);
        }
    }

    private static String firstLine(Exception e) {
        String m = e instanceof AnalysisException a ? a.getSimpleMessage() : String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}

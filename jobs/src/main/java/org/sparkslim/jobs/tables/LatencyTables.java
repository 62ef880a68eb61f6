package org.sparkslim.jobs.tables;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sparkslim.compression.latency.LatencyTable;

/**
 * The tables of the {@code latency-table} stage: each unit's measured latency (with the engine, the
 * machine and the date it was measured on), and each model's estimated latency against its measured one.
 */
public final class LatencyTables {
    public static final CheckpointTable<UnitLatency> UNITS = new UnitsTable();
    public static final CheckpointTable<ModelEstimate> ESTIMATES = new EstimatesTable();

    private LatencyTables() {
    }

    /**
     * One unit (or the cost of one call) at one batch size: median milliseconds, less the cost of the
     * call it was timed in.
     */
    public record UnitLatency(String key, String summary, int batch, double millis, String engine, String machine,
                              String measuredAt) {
    }

    /** One model at one batch size: the table's estimate and the measured latency of the whole model. */
    public record ModelEstimate(String model, int batch, int units, double estimatedMillis, double measuredMillis) {
        /** (estimated - measured) / measured. */
        public double relativeError() {
            return (estimatedMillis - measuredMillis) / measuredMillis;
        }
    }

    /** A table's entries as rows, all measured here and now. */
    public static List<UnitLatency> rows(LatencyTable table) {
        String machine = machine();
        String date = LocalDate.now().toString();
        List<UnitLatency> rows = new ArrayList<>();
        for (LatencyTable.Entry e : table.entries()) {
            rows.add(new UnitLatency(e.key(), e.summary(), e.batch(), e.millis(), table.engine(), machine, date));
        }
        return rows;
    }

    /** The rows of one engine as a table. */
    public static LatencyTable table(String engine, List<UnitLatency> rows) {
        return new LatencyTable(engine, rows.stream().filter(r -> r.engine().equals(engine))
                .map(r -> new LatencyTable.Entry(r.key(), r.summary(), r.batch(), r.millis())).toList());
    }

    /** The host name, the processor's model name and the cores this JVM sees. */
    private static String machine() {
        String cpu = "unknown processor";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse(cpu);
        } catch (IOException e) {
            // not Linux: the name is enough
        }
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown host";
        }
        return host + ", " + cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores";
    }

    private static final class UnitsTable extends CheckpointTable<UnitLatency> {
        UnitsTable() {
            super("latency-table.parquet", new StructType()
                    .add("key", DataTypes.StringType, false)
                    .add("summary", DataTypes.StringType, false)
                    .add("batch", DataTypes.IntegerType, false)
                    .add("millis", DataTypes.DoubleType, false)
                    .add("engine", DataTypes.StringType, false)
                    .add("machine", DataTypes.StringType, false)
                    .add("measured_at", DataTypes.StringType, false));
        }

        @Override
        protected Row toRow(UnitLatency u) {
            return RowFactory.create(u.key(), u.summary(), u.batch(), u.millis(), u.engine(), u.machine(), u.measuredAt());
        }

        @Override
        protected UnitLatency fromRow(Row r) {
            return new UnitLatency(r.getAs("key"), r.getAs("summary"), r.<Integer>getAs("batch"), r.<Double>getAs("millis"),
                    r.getAs("engine"), r.getAs("machine"), r.getAs("measured_at"));
        }
    }

    private static final class EstimatesTable extends CheckpointTable<ModelEstimate> {
        EstimatesTable() {
            super("estimates.parquet", new StructType()
                    .add("model", DataTypes.StringType, false)
                    .add("batch", DataTypes.IntegerType, false)
                    .add("units", DataTypes.IntegerType, false)
                    .add("estimated_ms", DataTypes.DoubleType, false)
                    .add("measured_ms", DataTypes.DoubleType, false));
        }

        @Override
        protected Row toRow(ModelEstimate e) {
            return RowFactory.create(e.model(), e.batch(), e.units(), e.estimatedMillis(), e.measuredMillis());
        }

        @Override
        protected ModelEstimate fromRow(Row r) {
            return new ModelEstimate(r.getAs("model"), r.<Integer>getAs("batch"), r.<Integer>getAs("units"),
                    r.<Double>getAs("estimated_ms"), r.<Double>getAs("measured_ms"));
        }
    }
}

package org.sparkslim.jobs.stages;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import onnx.Onnx;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.latency.Dl4jLatency;
import org.sparkslim.compression.latency.LatencyTable;
import org.sparkslim.compression.latency.OnnxUnits;
import org.sparkslim.compression.latency.OpUnit;
import org.sparkslim.compression.model.InvertedResidualLayout;
import org.sparkslim.compression.model.MobileNetV2;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.onnx.Int8OnnxExporter;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.search.ArchitectureSpace;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.onnx.LatencyEstimator;
import org.sparkslim.jobs.onnx.OnnxLatency;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.report.MarkdownTable;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.LatencySettings;
import org.sparkslim.jobs.settings.NasSettings;
import org.sparkslim.jobs.tables.LatencyTables;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.ModelRecord;

/**
 * Measures, on the machine it runs on (the driver) and in the engine of {@code latency-table.engine}
 * (ONNX Runtime by default, or DL4J), the latency of every distinct unit of the models of
 * {@code latency-table.models}, of untrained zoo networks ({@code latency-table.families}) and of
 * untrained Light-NAS candidates drawn from the {@code nas} space, and the cost of one call. In ONNX
 * Runtime a unit is a main operation and the element-wise ones fused with it ({@link OnnxUnits}), and
 * quantized models are measured as the int8 export writes them; in DL4J a unit is a vertex
 * ({@code Dl4jUnits}). Writes the table, then each model's estimate (the sum over its units) against
 * its measured latency. Units are timed one at a time; no other work of the stage runs meanwhile.
 */
public final class LatencyTableStage implements Stage<LatencyTableStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(LatencyTableStage.class);

    /** @param nasCandidates layouts drawn from the {@code nas} space with {@code run.seed}; empty for none */
    public record Settings(List<String> models, List<ModelFamily> families, List<InvertedResidualLayout> nasCandidates,
                           String engine, LatencySettings latency, DataSettings data) {
    }

    @Override
    public String name() {
        return "latency-table";
    }

    @Override
    public String description() {
        return "per-operation latency table in ONNX Runtime (or DL4J) on this machine, and each model's estimate";
    }

    @Override
    public Settings settings(SettingsReader r) {
        List<String> models = r.strings("latency-table.models");
        List<ModelFamily> families = new ArrayList<>();
        for (String family : r.strings("latency-table.families")) {
            families.add(r.check("latency-table.families", () -> ModelZoo.family(family)));
        }
        int count = r.integer("latency-table.nas-candidates", Range.atLeast(0));
        List<InvertedResidualLayout> candidates = List.of();
        if (count > 0) {
            ArchitectureSpace space = NasSettings.read(r).space();
            candidates = space == null ? List.of() : space.sample(count, r.whole("run.seed"));
        }
        if (models.isEmpty() && families.isEmpty() && count == 0) {
            r.fault("latency-table.models", "no model to measure: name stages here, zoo families in "
                    + r.key("latency-table.families") + " or a number of Light-NAS candidates in "
                    + r.key("latency-table.nas-candidates"));
        }
        return new Settings(models, families, candidates,
                r.choice("latency-table.engine", List.of(OnnxLatency.ENGINE, Dl4jLatency.ENGINE)),
                LatencySettings.read(r, "latency-table"), DataSettings.read(r));
    }

    @Override
    public List<String> inputs(Settings s) {
        return List.copyOf(s.models());
    }

    @Override
    public List<String> outputs(Settings settings) {
        return List.of(LatencyTables.UNITS.file(), LatencyTables.ESTIMATES.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        ImageShape shape = s.data().shape();
        Map<String, ComputationGraph> models = new LinkedHashMap<>();
        for (String stage : s.models()) {
            for (ModelRecord record : ModelCheckpoint.read(ctx.spark(), ctx.run(), stage)) {
                models.put(stage + "/" + record.name(), ModelCheckpoint.load(ctx.run(), stage, record).net());
            }
        }
        for (ModelFamily family : s.families()) {
            models.put(family.name(), family.build(family.spec(family.baseWidths(), shape, s.data().numClasses(), 1)));
        }
        for (int i = 0; i < s.nasCandidates().size(); i++) {
            String name = "nas-candidate-" + (i + 1);
            LOG.info("{}: {}", name, s.nasCandidates().get(i));
            MobileNetV2 family = new MobileNetV2(s.nasCandidates().get(i));
            models.put(name, family.build(family.spec(family.baseWidths(), shape, s.data().numClasses(), 1)));
        }
        ctx.describe("timing units in " + s.engine() + " on the driver");
        List<LatencyTables.ModelEstimate> estimates = new ArrayList<>();
        LatencyTable table = s.engine().equals(Dl4jLatency.ENGINE) ? inDl4j(models, s, estimates)
                : inOnnxRuntime(models, s, estimates);
        LatencyTables.UNITS.write(ctx, LatencyTables.rows(table));
        LatencyTables.ESTIMATES.write(ctx, estimates);
    }

    /** The table of the models' units in ONNX Runtime, on their exports (int8 for quantized models). */
    private static LatencyTable inOnnxRuntime(Map<String, ComputationGraph> models, Settings s,
                                              List<LatencyTables.ModelEstimate> estimates) throws Exception {
        ImageShape shape = s.data().shape();
        OnnxLatency timer = new OnnxLatency(s.latency().warmup(), s.latency().runs(), s.latency().threads());
        Map<String, byte[]> exports = new LinkedHashMap<>();
        for (Map.Entry<String, ComputationGraph> m : models.entrySet()) {
            ComputationGraph net = m.getValue();
            if (FakeQuantization.isQuantized(net)) {
                exports.put(m.getKey() + " (int8)", Int8OnnxExporter.export(net, shape));
            } else {
                exports.put(m.getKey(), OnnxExporter.export(net, shape));
            }
        }
        LatencyTable table = new LatencyTable(OnnxLatency.ENGINE, List.of());
        for (int batch : s.latency().batchSizes()) {
            LatencyEstimator estimator = new LatencyEstimator(table, timer, shape, batch);
            for (Map.Entry<String, byte[]> m : exports.entrySet()) {
                LatencyTable.Estimate estimate = estimator.estimate(Onnx.ModelProto.parseFrom(m.getValue()));
                double measured = timer.millis(m.getValue(), Map.of(OnnxExporter.INPUT, OpUnit.Input.floats(
                        new long[] {1, shape.channels(), shape.height(), shape.width()})), batch);
                estimates.add(logged(m.getKey(), batch, estimate, measured));
            }
            table = estimator.table();
        }
        return table;
    }

    /** The table of the models' vertices in DL4J, as the networks run here (quantized ones fake-quantized). */
    private static LatencyTable inDl4j(Map<String, ComputationGraph> models, Settings s,
                                       List<LatencyTables.ModelEstimate> estimates) {
        Dl4jLatency timer = new Dl4jLatency(s.latency().warmup(), s.latency().runs(), s.latency().threads());
        LatencyTable table = new LatencyTable(Dl4jLatency.ENGINE, List.of());
        for (int batch : s.latency().batchSizes()) {
            for (Map.Entry<String, ComputationGraph> m : models.entrySet()) {
                LatencyTable.Estimated e = timer.estimate(table, m.getValue(), s.data().shape(), batch);
                table = e.table();
                estimates.add(logged(m.getKey(), batch, e.estimate(), timer.millis(m.getValue(), s.data().shape(),
                        batch)));
            }
        }
        return table;
    }

    private static LatencyTables.ModelEstimate logged(String model, int batch, LatencyTable.Estimate estimate,
                                                      double measured) {
        LatencyTables.ModelEstimate e = new LatencyTables.ModelEstimate(model, batch, estimate.units(),
                estimate.millis(), measured);
        LOG.info(String.format("%s at batch %d: %d units (%d timed now), estimated %.3f ms, measured %.3f ms (%+.1f%%)",
                model, batch, estimate.units(), estimate.timedNow(), estimate.millis(), measured,
                100 * e.relativeError()));
        return e;
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) {
        MarkdownTable table = new MarkdownTable("model", "batch", "units", "estimated ms", "measured ms", "error");
        for (LatencyTables.ModelEstimate e : LatencyTables.ESTIMATES.read(report.spark(), checkpoint)) {
            table.row(e.model(), e.batch(), e.units(), Report.decimal(e.estimatedMillis(), 3),
                    Report.decimal(e.measuredMillis(), 3), String.format("%+.1f%%", 100 * e.relativeError()));
        }
        String engine = LatencyTables.UNITS.read(report.spark(), checkpoint).stream()
                .map(LatencyTables.UnitLatency::engine).findFirst().orElse("no units");
        report.heading("Latency table of `" + stage + "`: estimated against measured (" + engine + ")").table(table);
    }
}

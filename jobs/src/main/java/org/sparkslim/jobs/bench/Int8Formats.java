package org.sparkslim.jobs.bench;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.onnx.Int8OnnxExporter;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.compression.onnx.QdqOnnxExporter;
import org.sparkslim.compression.quant.ActivationStatistics;
import org.sparkslim.compression.quant.Calibration;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.QuantizationConfig;
import org.sparkslim.compression.quant.RangeFreezing;
import org.sparkslim.compression.train.ClassificationMetrics;
import org.sparkslim.jobs.onnx.OnnxRuntimeModel;

/**
 * One network as float ONNX and as int8 ONNX in both forms (QOperator, QDQ), each run by ONNX
 * Runtime: top-1 agreement with DL4J (the float network for the float export, the fake-quantized
 * one for the int8 exports), file size and latency, all three timed taking turns so the ratios come
 * from one run.
 */
public final class Int8Formats {
    /** One export's figures. */
    public record Row(String format, int bytes, double top1Agreement, double millisBatch1, double millisBatch64) {
    }

    private Int8Formats() {
    }

    /** Calibrates {@code net} (MSE, per-channel weights) on {@code calibration}, exports it three ways and measures them. */
    public static List<Row> measure(ComputationGraph net, ImageShape shape, INDArray calibration, INDArray batch1,
                                    INDArray batch64, int warmup, int runs) throws Exception {
        ComputationGraph q = FakeQuantization.insert(net, QuantizationConfig.DEFAULT);
        ActivationStatistics stats = new ActivationStatistics(RangeFreezing.tensors(q), 2048);
        stats.observe(FakeQuantization.strip(q), calibration);
        RangeFreezing.calibrate(q, stats, Calibration.MSE, 0);
        List<String> formats = List.of("float", "int8 QOperator", "int8 QDQ");
        List<byte[]> files = List.of(OnnxExporter.export(net, shape), Int8OnnxExporter.export(q, shape),
                QdqOnnxExporter.export(q, shape));
        List<OnnxRuntimeModel> models = new ArrayList<>();
        try {
            for (byte[] file : files) {
                models.add(new OnnxRuntimeModel(file, 1));
            }
            double[] b1 = OnnxRuntimeModel.interleavedMedianMillis(models, batch1, warmup, runs);
            double[] b64 = OnnxRuntimeModel.interleavedMedianMillis(models, batch64, warmup, runs);
            // the float export against the float network, the int8 ones against the fake-quantized network
            float[][] floatReference = net.outputSingle(false, calibration).toFloatMatrix();
            float[][] int8Reference = q.outputSingle(false, calibration).toFloatMatrix();
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                float[][] out = models.get(i).predict(calibration);
                float[][] reference = i == 0 ? floatReference : int8Reference;
                int agree = 0;
                for (int j = 0; j < out.length; j++) {
                    agree += ClassificationMetrics.argMax(out[j]) == ClassificationMetrics.argMax(reference[j]) ? 1 : 0;
                }
                rows.add(new Row(formats.get(i), files.get(i).length, agree / (double) out.length, b1[i], b64[i]));
            }
            return rows;
        } finally {
            for (OnnxRuntimeModel m : models) {
                m.close();
            }
        }
    }
}

package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code sparkslim benchmark search}, small: one round timed four ways, and the ratios of those times. */
class SearchBenchmarkTest {
    @Test
    void timesOneRoundAsLoopsAndOnBothMastersAndPrintsTheRatios() {
        TestPipeline.requireFashionMnist();
        TestPipeline.Printed run = TestPipeline.execute("benchmark", "search", "--data-dir", TestPipeline.FASHION.toString(),
                "--candidates", "2", "--train-images", "256", "--val-images", "128");
        String printed = run.out();
        assertEquals(0, run.code(), printed);
        assertTrue(printed.contains("2 candidates from the default nas space, each 1 epoch on 256 train images"), printed);
        Map<String, Double> seconds = new LinkedHashMap<>();
        Matcher m = Pattern.compile("^(loop, .+?|Spark local\\[\\d]) +([0-9.]+) s$", Pattern.MULTILINE).matcher(printed);
        while (m.find()) {
            seconds.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        assertEquals(List.of("loop, 1 thread x 2 native threads", "loop, 2 threads x 1 native thread", "Spark local[1]",
                "Spark local[2]"), List.copyOf(seconds.keySet()), printed);
        assertTrue(seconds.values().stream().allMatch(s -> s > 0), printed);
        Matcher scaling = Pattern.compile("local\\[2] against local\\[1]: ([0-9.]+)x").matcher(printed);
        assertTrue(scaling.find(), printed);
        // the ratio is of the printed times (to their printed precision)
        assertEquals(seconds.get("Spark local[1]") / seconds.get("Spark local[2]"), Double.parseDouble(scaling.group(1)),
                0.1 * seconds.get("Spark local[1]") / seconds.get("Spark local[2]") + 0.01, printed);
    }
}

package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * The HTML report as its reader sees it: a small run whose report has every kind of chart (training
 * curves, sensitivity, search trajectory and candidates, quantization error, the models against MACs
 * and against latency in DL4J and in ONNX Runtime), opened in Debian's Chromium, headless.
 */
class HtmlReportTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** A title with markup in it: the page must show it as text. */
    private static final String TITLE = "Nightly <b>vgg</b> & co";

    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-report-it",
            "pipeline.stages=[prepare-data, train, sensitivity, prune-search, prune, qat, evaluate, export, report]",
            "data.limit.train=1000", "data.limit.val=200", "data.limit.test=300", "data.partitions=2",
            "model.family=vgg", "model.width-multiplier=0.25", "train.epochs=2",
            "sensitivity.ratios=[0.5]", "prune-search.rounds=2", "prune-search.candidates-per-round=2",
            "prune-search.retrain.epochs=1", "prune-search.retrain.images=200",
            "prune.strategy=search", "prune.tolerance=0.05", "prune.bn-recalibration-images=100",
            "qat.model=prune", "quant.calibration-images=100",
            "evaluate.models=[train, prune, qat]", "evaluate.write-predictions=false",
            "evaluate.latency.warmup=1", "evaluate.latency.runs=3",
            "export.models=[train, qat]", "export.check-images=32", "export.latency.warmup=1", "export.latency.runs=3",
            "report.title=\"" + TITLE + "\"");

    @Test
    void everyChartRendersInABrowserWithoutErrors() throws Exception {
        requireChromium();
        it.run();
        Path report = it.runDir().resolve("report");
        Path page = report.resolve("report.html");
        String markdown = Files.readString(report.resolve("report.md"));

        ChromeDriver browser = browser();
        try {
            browser.get(page.toUri().toString());
            assertEquals(TITLE, browser.getTitle(), "the config's title is text, not markup");
            assertTrue(browser.findElements(By.tagName("b")).isEmpty(), "no markup from the config reaches the page");
            assertEquals(TITLE, browser.findElement(By.tagName("h1")).getText());

            @SuppressWarnings("unchecked")
            List<List<Object>> images = (List<List<Object>>) browser.executeScript(
                    "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])");
            Set<String> shown = images.stream().map(i -> (String) i.get(0)).collect(Collectors.toSet());
            assertEquals(Set.of("train-training.png", "sensitivity.png", "prune-search-trajectory.png",
                    "prune-search-candidates.png", "qat-quantization-error.png", "qat-training.png",
                    "evaluate-top1-macs.png", "evaluate-top1-latency.png", "export-top1-latency.png"), shown);
            for (List<Object> image : images) {
                assertEquals(Boolean.TRUE, image.get(1), image.get(0) + " loaded");
                assertEquals(900L, image.get(2), image.get(0) + " decoded at its width");
                assertTrue(drawn(report.resolve((String) image.get(0))), image.get(0) + " has a chart drawn in it");
            }
            long tables = markdown.lines().filter(l -> l.startsWith("|---") || l.startsWith("|--")).count();
            assertEquals(tables, browser.findElements(By.tagName("table")).size(), "every table of report.md");
            assertTrue(browser.findElement(By.tagName("table")).getText().contains("qat"), "the metrics come first");

            List<LogEntry> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                    .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue()).toList();
            assertTrue(errors.isEmpty(), "console: " + errors);

            long height = (Long) ((JavascriptExecutor) browser).executeScript("return document.body.scrollHeight");
            browser.manage().window().setSize(new Dimension(1280, (int) Math.min(height + 40, 16000)));
            Path screenshot = Path.of("target", "report-screenshot.png");
            Files.write(screenshot, browser.getScreenshotAs(OutputType.BYTES));
        } finally {
            browser.quit();
        }
    }

    /** Chromium through Debian's chromedriver, with no network of its own (the page is a local file). */
    private static ChromeDriver browser() throws IOException {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1280,1000",
                "--user-data-dir=" + Files.createTempDirectory("sparkslim-chromium"));
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .build();
        return new ChromeDriver(service, options);
    }

    /** More than a blank canvas: a chart has axes, text and series in several colours. */
    private static boolean drawn(Path png) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(Files.readAllBytes(png)));
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 3) {
            for (int x = 0; x < image.getWidth(); x += 3) {
                colours.add(image.getRGB(x, y));
            }
        }
        return colours.size() > 10;
    }

    /** Fails (does not skip) without the browser: a green run must have opened the page. */
    private static void requireChromium() {
        assertTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "Chromium is not installed: apt-get install -y chromium chromium-driver");
    }
}

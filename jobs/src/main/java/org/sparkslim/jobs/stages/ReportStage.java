package org.sparkslim.jobs.stages;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.report.HtmlPage;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;

/**
 * The run's report, in Markdown and as a web page with the same content: a section from each stage
 * listed before it that has one ({@link ReportSection}), the scores of the run's models first.
 */
public final class ReportStage implements Stage<ReportStage.Settings> {
    private static final Logger LOG = LoggerFactory.getLogger(ReportStage.class);
    public static final String REPORT = "report.md";
    public static final String PAGE = "report.html";

    /** @param stages the stages listed before the report, whose checkpoints it shows */
    public record Settings(String title, String family, long seed, List<String> stages) {
    }

    @Override
    public String name() {
        return "report";
    }

    @Override
    public String description() {
        return "summary of the run (report.md, report.html): each earlier stage's section";
    }

    @Override
    public Settings settings(SettingsReader r) {
        List<String> listed = r.strings("pipeline.stages");
        int self = listed.indexOf(r.stageName());
        return new Settings(r.string("report.title"), r.string("model.family"), r.whole("run.seed"),
                List.copyOf(listed.subList(0, Math.max(self, 0))));
    }

    @Override
    public List<String> inputs(Settings s) {
        return s.stages();
    }

    @Override
    public List<String> outputs(Settings settings) {
        return List.of(REPORT, PAGE); // and the images sections add (e.g. sensitivity.png)
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        Report report = new Report(ctx.spark(), ctx.run(), ctx.output()).title(s.title())
                .text("Run directory: `" + ctx.run().root() + "`  \n")
                .text("Generated: " + Instant.now() + "  \n")
                .paragraph("Model: " + s.family() + ", seed " + s.seed());
        List<String> leading = new ArrayList<>();
        List<String> rest = new ArrayList<>();
        for (String stage : s.stages()) {
            if (ctx.stageOf(stage) instanceof ReportSection section) {
                (section.leads() ? leading : rest).add(stage);
            }
        }
        for (List<String> group : List.of(leading, rest)) {
            for (String stage : group) {
                ctx.describe("report section of " + stage);
                ((ReportSection) ctx.stageOf(stage)).report(report, stage, ctx.input(stage));
            }
        }
        ctx.run().writeText(ctx.output(REPORT), report.markdown());
        ctx.run().writeText(ctx.output(PAGE), HtmlPage.render(s.title(), report.markdown()));
        LOG.info("report written with the sections of {} and {}", leading, rest);
    }
}

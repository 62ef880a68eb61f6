package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ModelCheckpoint;

/**
 * Fine-tunes the model of another stage (a pruned one, usually) with the benchmark's fine-tuning
 * recipe: the {@code train} recipe with {@code finetune.epochs} and {@code finetune.learning-rate};
 * with {@code finetune.teacher} set, against that stage's soft labels as well (see {@code distill}).
 */
public final class FinetuneStage implements Stage {
    @Override
    public String name() {
        return "finetune";
    }

    @Override
    public String description() {
        return "fine-tune the model of finetune.model on the train split";
    }

    @Override
    public List<String> configPaths() {
        return List.of("data.image", "data.num-classes", "data.normalization", "finetune", "distill", "train",
                "run.seed");
    }

    @Override
    public List<String> inputs(Config config) {
        List<String> inputs = new ArrayList<>();
        inputs.add("prepare-data");
        inputs.add(config.getString("finetune.model"));
        inputs.addAll(ModelTraining.teacherInput(config));
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of("model.zip", "models.parquet", "history.parquet");
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        Config c = ctx.config();
        ModelCheckpoint.Loaded model = ModelCheckpoint.loadSingle(ctx, c.getString("finetune.model"));
        ModelTraining.Teaching teaching = ModelTraining.teaching(ctx, c.getString("finetune.model"));
        ModelTraining.trainAndWrite(ctx, model.net(), ModelTraining.finetuneRecipe(ctx, c.getInt("finetune.epochs"), 0),
                teaching.softLabels(), teaching.hints(), model.record().family(), model.record().widths());
    }
}

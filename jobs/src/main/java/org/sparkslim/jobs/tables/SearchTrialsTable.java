package org.sparkslim.jobs.tables;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code trials.parquet}: every candidate a search evaluated, in order. {@code accepted} marks the
 * candidate that became the current one when its round ended; the table alone restores the search's
 * state, so it is also what a killed search resumes from.
 */
public final class SearchTrialsTable extends CheckpointTable<SearchTrialsTable.Trial> {
    public static final SearchTrialsTable TABLE = new SearchTrialsTable();

    /**
     * @param tokens    the candidate as the search sees it
     * @param architecture what the tokens mean, readably (each group's width, each stage's blocks)
     * @param reduction the fraction of the unpruned (or reference) model's MACs removed
     * @param latencyMs the candidate's estimated latency under a latency constraint, else NaN
     */
    public record Trial(int round, int candidate, int[] tokens, String architecture, long macs, double reduction,
                        double top1, double loss, double latencyMs, double reward, double temperature, boolean accepted) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Trial t && round == t.round && candidate == t.candidate && Arrays.equals(tokens, t.tokens)
                    && architecture.equals(t.architecture) && macs == t.macs && Double.compare(reduction, t.reduction) == 0
                    && Double.compare(top1, t.top1) == 0 && Double.compare(loss, t.loss) == 0
                    && Double.compare(latencyMs, t.latencyMs) == 0
                    && Double.compare(reward, t.reward) == 0 && Double.compare(temperature, t.temperature) == 0
                    && accepted == t.accepted;
        }

        @Override
        public int hashCode() {
            return 31 * (31 * round + candidate) + Arrays.hashCode(tokens);
        }
    }

    private SearchTrialsTable() {
        super("trials.parquet", new StructType()
                .add("round", DataTypes.IntegerType, false)
                .add("candidate", DataTypes.IntegerType, false)
                .add("tokens", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
                .add("architecture", DataTypes.StringType, false)
                .add("macs", DataTypes.LongType, false)
                .add("reduction", DataTypes.DoubleType, false)
                .add("top1", DataTypes.DoubleType, false)
                .add("loss", DataTypes.DoubleType, false)
                .add("latency_ms", DataTypes.DoubleType, false)
                .add("reward", DataTypes.DoubleType, false)
                .add("temperature", DataTypes.DoubleType, false)
                .add("accepted", DataTypes.BooleanType, false));
    }

    @Override
    protected Row toRow(Trial t) {
        return RowFactory.create(t.round(), t.candidate(), Arrays.stream(t.tokens()).boxed().toList(), t.architecture(),
                t.macs(), t.reduction(), t.top1(), t.loss(), t.latencyMs(), t.reward(), t.temperature(), t.accepted());
    }

    @Override
    protected Trial fromRow(Row r) {
        List<Integer> tokens = r.getList(r.fieldIndex("tokens"));
        return new Trial(r.<Integer>getAs("round"), r.<Integer>getAs("candidate"),
                tokens.stream().mapToInt(Integer::intValue).toArray(), r.getAs("architecture"), r.<Long>getAs("macs"),
                r.<Double>getAs("reduction"), r.<Double>getAs("top1"), r.<Double>getAs("loss"),
                r.<Double>getAs("latency_ms"), r.<Double>getAs("reward"),
                r.<Double>getAs("temperature"), r.<Boolean>getAs("accepted"));
    }
}

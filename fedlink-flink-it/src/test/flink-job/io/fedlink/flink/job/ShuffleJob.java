package io.fedlink.flink.job;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;

/**
 * Compiled and submitted by FlinkClusterIT (not by Maven: Flink stays off fedlink's class paths). A STREAMING job
 * at parallelism 2: numbers 1..N are tagged with the source subtask, keyed by {@code n % 16} (a hash shuffle between
 * the two TaskManagers), and each key's state counts its sum and how many records came from the other subtask.
 * Prints {@code RESULT sum=<sum> crossed=<records that crossed>}.
 *
 * <p>Arguments: the config folder (the client's Flink config, with the bundle's lines), REST host, REST port, the
 * jar holding this class, N.
 */
public final class ShuffleJob {
    private ShuffleJob() {}

    public static void main(String[] args) throws Exception {
        Configuration conf = GlobalConfiguration.loadConfiguration(args[0]);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(args[1],
                Integer.parseInt(args[2]), conf, args[3]);
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        env.setParallelism(2);
        long n = Long.parseLong(args[4]);
        Map<Long, Tuple3<Long, Long, Long>> last = new HashMap<>();
        try (CloseableIterator<Tuple3<Long, Long, Long>> out = env.fromSequence(1, n).map(new TagSource())
                .keyBy(new ByKey()).process(new SumAndCount()).executeAndCollect("fedlink-ssl-shuffle")) {
            out.forEachRemaining(t -> last.merge(t.f0, t, (a, b) -> a.f1 >= b.f1 ? a : b));
        }
        long sum = last.values().stream().mapToLong(t -> t.f1).sum();
        long crossed = last.values().stream().mapToLong(t -> t.f2).sum();
        System.out.println("RESULT sum=" + sum + " crossed=" + crossed);
    }

    /** (key, value, source subtask). */
    public static final class TagSource extends RichMapFunction<Long, Tuple3<Long, Long, Long>> {
        private long subtask;

        @Override
        public void open(OpenContext ctx) {
            subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        }

        @Override
        public Tuple3<Long, Long, Long> map(Long v) {
            return Tuple3.of(v % 16, v, subtask);
        }
    }

    /** The key. */
    public static final class ByKey implements KeySelector<Tuple3<Long, Long, Long>, Long> {
        @Override
        public Long getKey(Tuple3<Long, Long, Long> t) {
            return t.f0;
        }
    }

    /** Per key: (key, running sum, records from the other subtask). */
    public static final class SumAndCount
            extends KeyedProcessFunction<Long, Tuple3<Long, Long, Long>, Tuple3<Long, Long, Long>> {
        private transient ValueState<Long> sum;
        private transient ValueState<Long> crossed;
        private long subtask;

        @Override
        public void open(OpenContext ctx) {
            sum = getRuntimeContext().getState(new ValueStateDescriptor<>("sum", Types.LONG));
            crossed = getRuntimeContext().getState(new ValueStateDescriptor<>("crossed", Types.LONG));
            subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        }

        @Override
        public void processElement(Tuple3<Long, Long, Long> t, Context ctx, Collector<Tuple3<Long, Long, Long>> out)
                throws Exception {
            long s = (sum.value() == null ? 0 : sum.value()) + t.f1;
            long c = (crossed.value() == null ? 0 : crossed.value()) + (t.f2 == subtask ? 0 : 1);
            sum.update(s);
            crossed.update(c);
            out.collect(Tuple3.of(t.f0, s, c));
        }
    }
}

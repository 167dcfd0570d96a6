package dev.featherweight.kernels.capacity;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A discrete-event simulation of continuous batching (vLLM-style) on the roofline: requests arrive,
 * wait for KV blocks, are prefilled, then decode one token per step alongside every other running
 * request until their output is complete.
 *
 * <p>Scheduling, per step: if waiting requests fit in the free 16-token KV blocks (prompt + 1 token),
 * admit them in arrival order and run one prefill step for all of them (that step produces their first
 * token); otherwise run one decode step for every running request. When a running request needs a new
 * block and none is free, the most recently admitted request is preempted: its blocks are freed and it
 * goes back to the front of the queue, to be prefilled again with everything it has generated so far
 * (vLLM's recompute preemption). Step times come from {@link Roofline}; the clock jumps to the next
 * arrival when the GPU is idle.
 */
public final class ServingSimulator {
    /** One request: arrival time (s), prompt tokens, output tokens. */
    public record Request(double arrival, int promptTokens, int outputTokens) {
    }

    /** Percentiles of a latency, in seconds. */
    public record Percentiles(double mean, double p50, double p90, double p99) {
        static Percentiles of(double[] xs) {
            if (xs.length == 0) return new Percentiles(0, 0, 0, 0);
            double[] s = xs.clone();
            Arrays.sort(s);
            return new Percentiles(Arrays.stream(s).average().orElse(0), pct(s, 0.5), pct(s, 0.9), pct(s, 0.99));
        }

        private static double pct(double[] sorted, double q) {
            int i = (int) Math.ceil(q * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
        }
    }

    /**
     * The outcome of a run. {@code meanInSystem} is the time average of requests waiting or running over
     * [0, makespan]; Little's law says it equals arrival rate × mean time in system.
     */
    public record Result(int requests, double makespanSeconds, double offeredRate, double requestsPerSecond,
                         double outputTokensPerSecond, double totalTokensPerSecond, Percentiles ttft, Percentiles tpot,
                         Percentiles queueSeconds, Percentiles e2eSeconds, double meanInSystem, double meanRunningBatch,
                         double kvUtilization, long preemptions, double costPerMillionOutputTokens, int tensorParallel) {
    }

    private final Roofline roofline;
    private final long kvBlocks;
    private final int maxBatch;

    /**
     * @param roofline time model
     * @param kvBlocks 16-token KV blocks available (from {@link Capacity})
     * @param maxBatch cap on running requests per step (vLLM's max_num_seqs, default 256)
     */
    public ServingSimulator(Roofline roofline, long kvBlocks, int maxBatch) {
        if (kvBlocks < 1) throw new CapacityException("no KV blocks available: the model leaves no room for a cache on " + roofline.gpu().name());
        this.roofline = roofline;
        this.kvBlocks = kvBlocks;
        this.maxBatch = maxBatch;
    }

    /** Poisson arrivals at {@code rate} per second over {@code duration} seconds, lengths drawn from the distributions. */
    public static List<Request> poisson(double rate, double duration, LengthDistribution prompt, LengthDistribution output, long seed) {
        if (rate <= 0 || duration <= 0) throw new CapacityException("rate and duration must be positive");
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Request> out = new ArrayList<>();
        double t = 0;
        while (true) {
            t += -Math.log(1.0 - rnd.nextDouble()) / rate;
            if (t >= duration) break;
            out.add(new Request(t, prompt.sample(rnd), output.sample(rnd)));
        }
        return out;
    }

    /** Parses a trace: CSV lines "arrival_seconds,prompt_tokens,output_tokens" (a header line is skipped). */
    public static List<Request> trace(List<String> lines) {
        List<Request> out = new ArrayList<>();
        for (String line : lines) {
            String l = line.trim();
            if (l.isEmpty() || l.startsWith("#") || Character.isLetter(l.charAt(0))) continue;
            String[] p = l.split("\\s*,\\s*");
            if (p.length < 3) throw new CapacityException("trace line '" + line + "' needs arrival,prompt,output");
            out.add(new Request(Double.parseDouble(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])));
        }
        out.sort((a, b) -> Double.compare(a.arrival, b.arrival));
        return out;
    }

    private static final class Seq {
        final int index;
        final Request req;
        int generated;        // output tokens produced so far
        int blocks;           // KV blocks held
        double firstToken = -1;
        double admitted = -1;
        double finish = -1;

        Seq(int index, Request req) {
            this.index = index;
            this.req = req;
        }

        int context() {
            return req.promptTokens + generated;
        }
    }

    private static int blocksFor(int tokens) {
        return (tokens + Capacity.PAGE_TOKENS - 1) / Capacity.PAGE_TOKENS;
    }

    public Result run(List<Request> requests) {
        int n = requests.size();
        Seq[] seqs = new Seq[n];
        for (int i = 0; i < n; i++) {
            Request r = requests.get(i);
            if (blocksFor(r.promptTokens + r.outputTokens) > kvBlocks) {
                throw new CapacityException("request " + i + " needs " + (r.promptTokens + r.outputTokens) + " tokens of KV cache, more than the "
                        + kvBlocks * Capacity.PAGE_TOKENS + " tokens that fit");
            }
            seqs[i] = new Seq(i, r);
        }
        Deque<Seq> waiting = new ArrayDeque<>();
        List<Seq> running = new ArrayList<>();
        long freeBlocks = kvBlocks;
        double now = 0;
        int nextArrival = 0, done = 0;
        double areaInSystem = 0, areaRunning = 0, areaKv = 0, busy = 0;
        long preemptions = 0, outputTokens = 0;
        int inSystem = 0;
        while (done < n) {
            while (nextArrival < n && seqs[nextArrival].req.arrival <= now) {
                waiting.addLast(seqs[nextArrival++]);
                inSystem++;
            }
            if (running.isEmpty() && waiting.isEmpty()) {
                double t = seqs[nextArrival].req.arrival;
                areaInSystem += inSystem * (t - now);
                now = t;
                continue;
            }
            // Admit what fits, in order.
            List<Seq> admitted = new ArrayList<>();
            while (!waiting.isEmpty() && running.size() + admitted.size() < maxBatch) {
                Seq s = waiting.peekFirst();
                int need = blocksFor(s.context() + 1);
                if (need > freeBlocks) break;
                waiting.pollFirst();
                s.blocks = need;
                freeBlocks -= need;
                if (s.admitted < 0) s.admitted = now;
                admitted.add(s);
            }
            double step;
            if (!admitted.isEmpty()) {
                long tokens = 0, squares = 0;
                for (Seq s : admitted) {
                    tokens += s.context();
                    squares += (long) s.context() * s.context();
                }
                step = roofline.prefillSeconds(tokens, squares);
                double end = now + step;
                for (Seq s : admitted) {
                    if (s.firstToken < 0) {
                        s.firstToken = end;
                        s.generated = 1;
                        outputTokens++;
                    }
                    running.add(s);
                }
            } else {
                // Every running request needs room for one more token; preempt the newest until it fits.
                int needed = 0;
                for (Seq s : running) if (blocksFor(s.context() + 1) > s.blocks) needed++;
                while (needed > freeBlocks && running.size() > 1) {
                    Seq victim = running.removeLast();
                    if (blocksFor(victim.context() + 1) > victim.blocks) needed--;
                    freeBlocks += victim.blocks;
                    victim.blocks = 0;
                    waiting.addFirst(victim);
                    preemptions++;
                }
                long totalContext = 0;
                for (Seq s : running) {
                    if (blocksFor(s.context() + 1) > s.blocks) {
                        s.blocks++;
                        freeBlocks--;
                    }
                    totalContext += s.context();
                }
                step = roofline.decodeStepSeconds(running.size(), totalContext);
                for (Seq s : running) {
                    s.generated++;
                    outputTokens++;
                }
            }
            double end = now + step;
            long usedBlocks = kvBlocks - freeBlocks;
            areaKv += usedBlocks * step;
            areaRunning += running.size() * step;
            areaInSystem += inSystem * step;
            busy += step;
            // Requests that arrived during the step have been in the system since their arrival.
            while (nextArrival < n && seqs[nextArrival].req.arrival < end) {
                Seq s = seqs[nextArrival++];
                areaInSystem += end - s.req.arrival;
                waiting.addLast(s);
                inSystem++;
            }
            now = end;
            for (int i = running.size() - 1; i >= 0; i--) {
                Seq s = running.get(i);
                if (s.generated >= s.req.outputTokens) {
                    s.finish = now;
                    freeBlocks += s.blocks;
                    s.blocks = 0;
                    running.remove(i);
                    done++;
                    inSystem--;
                }
            }
        }
        double[] ttft = new double[n], tpot = new double[n], queue = new double[n], e2e = new double[n];
        long promptTokens = 0;
        int tpotCount = 0;
        double[] tpotAll = new double[n];
        for (int i = 0; i < n; i++) {
            Seq s = seqs[i];
            ttft[i] = s.firstToken - s.req.arrival;
            queue[i] = s.admitted - s.req.arrival;
            e2e[i] = s.finish - s.req.arrival;
            promptTokens += s.req.promptTokens;
            if (s.req.outputTokens > 1) tpotAll[tpotCount++] = (s.finish - s.firstToken) / (s.req.outputTokens - 1);
        }
        tpot = Arrays.copyOf(tpotAll, tpotCount);
        double makespan = now;
        double firstArrival = n == 0 ? 0 : seqs[0].req.arrival;
        double lastArrival = n == 0 ? 0 : seqs[n - 1].req.arrival;
        double offered = n > 1 ? (n - 1) / (lastArrival - firstArrival) : 0;
        double hourly = roofline.gpu().hourlyUsd() * roofline.tensorParallel();
        double outTps = outputTokens / makespan;
        double cost = outTps > 0 ? hourly / 3600.0 / outTps * 1e6 : 0;
        return new Result(n, makespan, offered, n / makespan, outTps, (outputTokens + promptTokens) / makespan,
                Percentiles.of(ttft), Percentiles.of(tpot), Percentiles.of(queue), Percentiles.of(e2e),
                areaInSystem / makespan, busy > 0 ? areaRunning / busy : 0, busy > 0 ? areaKv / busy / kvBlocks : 0,
                preemptions, cost, roofline.tensorParallel());
    }
}

package dev.featherweight.catalog.capacity;

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
    private final int maxBatchedTokens;

    /**
     * @param roofline time model
     * @param kvBlocks 16-token KV blocks available (from {@link Capacity})
     * @param maxBatch cap on running requests per step (vLLM's max_num_seqs, default 256)
     * @param maxBatchedTokens tokens one step may process, decodes plus prefill chunks (vLLM's max_num_batched_tokens)
     */
    public ServingSimulator(Roofline roofline, long kvBlocks, int maxBatch, int maxBatchedTokens) {
        if (kvBlocks < 1) throw new CapacityException("no KV blocks available: the model leaves no room for a cache on " + roofline.gpu().name());
        if (maxBatch < 1 || maxBatchedTokens <= maxBatch) {
            throw new CapacityException("max batch " + maxBatch + " must be ≥ 1 and below the step token budget " + maxBatchedTokens);
        }
        this.roofline = roofline;
        this.kvBlocks = kvBlocks;
        this.maxBatch = maxBatch;
        this.maxBatchedTokens = maxBatchedTokens;
    }

    /** With vLLM's defaults: 256 sequences, {@value Capacity#PROFILE_TOKENS} tokens per step. */
    public ServingSimulator(Roofline roofline, long kvBlocks) {
        this(roofline, kvBlocks, 256, Capacity.PROFILE_TOKENS);
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

    /** Parses a trace: CSV lines "arrival_seconds,prompt_tokens,output_tokens" (a header line and # comments are skipped). */
    public static List<Request> trace(List<String> lines) {
        List<Request> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).trim();
            if (l.isEmpty() || l.startsWith("#") || Character.isLetter(l.charAt(0))) continue;
            String[] p = l.split("\\s*,\\s*");
            try {
                if (p.length < 3) throw new NumberFormatException("3 fields expected");
                Request r = new Request(Double.parseDouble(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
                if (!(r.arrival >= 0) || r.promptTokens < 1 || r.outputTokens < 1) throw new NumberFormatException("out of range");
                out.add(r);
            } catch (NumberFormatException e) {
                throw new CapacityException("trace line " + (i + 1) + " '" + l + "': expected arrival_seconds ≥ 0, prompt_tokens ≥ 1, output_tokens ≥ 1");
            }
        }
        out.sort((a, b) -> Double.compare(a.arrival, b.arrival));
        return out;
    }

    private static final class Seq {
        final Request req;
        int generated;        // output tokens produced so far
        int computed;         // tokens whose K/V are in the cache
        int blocks;           // KV blocks held
        boolean decoding;     // prefill complete: each step adds one token
        double firstToken = -1;
        double admitted = -1;
        double finish = -1;

        Seq(Request req) {
            this.req = req;
        }

        /** Tokens a (re)prefill must compute: the prompt plus anything generated before a preemption. */
        int prefillTarget() {
            return req.promptTokens + generated;
        }
    }

    private static int blocksFor(long tokens) {
        return (int) ((tokens + Capacity.PAGE_TOKENS - 1) / Capacity.PAGE_TOKENS);
    }

    public Result run(List<Request> requests) {
        int n = requests.size();
        Seq[] seqs = new Seq[n];
        for (int i = 0; i < n; i++) {
            Request r = requests.get(i);
            if (r.promptTokens < 1 || r.outputTokens < 1) throw new CapacityException("request " + i + " needs at least one prompt and one output token");
            if (i > 0 && r.arrival < requests.get(i - 1).arrival) throw new CapacityException("requests must be sorted by arrival (request " + i + ")");
            if (blocksFor(r.promptTokens + r.outputTokens) > kvBlocks) {
                throw new CapacityException("request " + i + " needs " + (r.promptTokens + r.outputTokens) + " tokens of KV cache, more than the "
                        + kvBlocks * Capacity.PAGE_TOKENS + " tokens that fit");
            }
            seqs[i] = new Seq(r);
        }
        Deque<Seq> waiting = new ArrayDeque<>();
        List<Seq> running = new ArrayList<>();   // in admission order; the last is preempted first
        long freeBlocks = kvBlocks;
        double now = 0;
        int nextArrival = 0, done = 0;
        double areaInSystem = 0, areaRunning = 0, areaKv = 0, busy = 0;
        long preemptions = 0, outputTokens = 0, steps = 0;
        int inSystem = 0;
        while (done < n) {
            while (nextArrival < n && seqs[nextArrival].req.arrival <= now) {
                waiting.addLast(seqs[nextArrival++]);
                inSystem++;
            }
            if (running.isEmpty() && waiting.isEmpty()) {
                now = seqs[nextArrival].req.arrival; // idle: nobody in the system until then
                continue;
            }
            // 1. Every decoding request computes one token; it may need a new block. Preempt the newest until that fits.
            int needed = 0;
            for (Seq q : running) if (q.decoding && blocksFor(q.computed + 1) > q.blocks) needed++;
            while (needed > freeBlocks && running.size() > 1) {
                Seq victim = running.removeLast();
                if (victim.decoding && blocksFor(victim.computed + 1) > victim.blocks) needed--;
                freeBlocks += victim.blocks;
                victim.blocks = 0;
                victim.computed = 0;
                victim.decoding = false;
                waiting.addFirst(victim);
                preemptions++;
            }
            int decodes = 0;
            long decodeContext = 0;
            for (Seq q : running) {
                if (!q.decoding) continue;
                int need = blocksFor(q.computed + 1) - q.blocks;
                q.blocks += need;
                freeBlocks -= need;
                decodes++;
                decodeContext += q.computed + 1;
            }
            // 2. The rest of the step's token budget goes to prefill chunks: requests already being prefilled first, then new ones in arrival order.
            long budget = maxBatchedTokens - decodes;
            long prefillTokens = 0, prefillKvTokens = 0;
            double prefillPairs = 0;
            List<Seq> chunked = new ArrayList<>();
            List<Integer> chunkLengths = new ArrayList<>();
            for (Seq q : running) {
                if (q.decoding || budget <= 0) continue;
                int chunk = (int) Math.min(q.prefillTarget() - q.computed, budget);
                int need = blocksFor(q.computed + chunk) - q.blocks;
                if (need > freeBlocks) {
                    chunk = (int) Math.min(chunk, (q.blocks + freeBlocks) * Capacity.PAGE_TOKENS - q.computed);
                    need = blocksFor(q.computed + chunk) - q.blocks;
                }
                if (chunk <= 0) continue;
                q.blocks += need;
                freeBlocks -= need;
                budget -= chunk;
                prefillTokens += chunk;
                prefillKvTokens += q.computed + chunk;
                prefillPairs += (double) chunk * q.computed + chunk * (chunk + 1.0) / 2;
                chunked.add(q);
                chunkLengths.add(chunk);
            }
            while (budget > 0 && !waiting.isEmpty() && running.size() < maxBatch) {
                Seq q = waiting.peekFirst();
                int chunk = (int) Math.min(q.prefillTarget(), budget);
                int need = blocksFor(chunk);
                if (need > freeBlocks) break; // first come, first served: no overtaking the head of the queue
                waiting.pollFirst();
                if (q.admitted < 0) q.admitted = now;
                q.blocks = need;
                freeBlocks -= need;
                budget -= chunk;
                prefillTokens += chunk;
                prefillKvTokens += chunk;
                prefillPairs += chunk * (chunk + 1.0) / 2;
                running.add(q);
                chunked.add(q);
                chunkLengths.add(chunk);
            }
            if (decodes == 0 && prefillTokens == 0) {
                // Partly prefilled requests hold blocks and none can grow: give the newest one's blocks to the others.
                if (running.size() < 2) throw new IllegalStateException("scheduler stalled at t=" + now + " with " + running.size() + " running");
                Seq victim = running.removeLast();
                freeBlocks += victim.blocks;
                victim.blocks = 0;
                victim.computed = 0;
                waiting.addFirst(victim);
                preemptions++;
                continue;
            }
            double step = roofline.stepSeconds(decodes, decodeContext, prefillTokens, prefillPairs, prefillKvTokens);
            double end = now + step;
            steps++;
            long usedBlocks = kvBlocks - freeBlocks;
            areaKv += usedBlocks * step;
            areaRunning += running.size() * step;
            busy += step;
            areaInSystem += inSystem * step;
            // Requests arriving during the step join the queue at its end, having been in the system since their arrival.
            while (nextArrival < n && seqs[nextArrival].req.arrival < end) {
                Seq q = seqs[nextArrival++];
                areaInSystem += end - q.req.arrival;
                waiting.addLast(q);
                inSystem++;
            }
            // 3. Advance: decodes emit a token each, finished prefills emit their first (or next, after a preemption) token.
            for (Seq q : running) {
                if (q.decoding) {
                    q.computed++;
                    q.generated++;
                    outputTokens++;
                }
            }
            for (int i = 0; i < chunked.size(); i++) {
                Seq q = chunked.get(i);
                q.computed += chunkLengths.get(i);
                if (q.computed == q.prefillTarget()) {
                    q.decoding = true;
                    q.generated++;
                    outputTokens++;
                    if (q.firstToken < 0) q.firstToken = end;
                }
            }
            now = end;
            for (int i = running.size() - 1; i >= 0; i--) {
                Seq q = running.get(i);
                if (q.generated >= q.req.outputTokens) {
                    q.finish = now;
                    freeBlocks += q.blocks;
                    q.blocks = 0;
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

package dev.featherweight.kernels.capacity;

import dev.featherweight.catalog.capacity.*;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ServingSimulatorTest {
    static final ModelShape LLAMA3_8B = CapacityTest.LLAMA3_8B;
    static final Gpu H100 = GpuCatalog.builtIn().get("H100-80GB-SXM");
    static final long WEIGHTS = 2 * LLAMA3_8B.params();

    private static ServingSimulator simulator(Roofline r, int ctx) {
        CapacityReport cap = Capacity.compute(LLAMA3_8B, H100, WEIGHTS, ctx, KvDType.FP16, 0.9, Capacity.defaultOverheadBytes(LLAMA3_8B), Precision.FP16, 1);
        return new ServingSimulator(r, cap.kvBlocks());
    }

    private static Roofline roofline() {
        return new Roofline(LLAMA3_8B, H100, WEIGHTS, KvDType.FP16, Precision.FP16, 1);
    }

    @Test
    void sameSeedSameRun() {
        var reqs1 = ServingSimulator.poisson(20, 30, LengthDistribution.parse("lognormal:6:0.5"), LengthDistribution.parse("uniform:50:300"), 7);
        var reqs2 = ServingSimulator.poisson(20, 30, LengthDistribution.parse("lognormal:6:0.5"), LengthDistribution.parse("uniform:50:300"), 7);
        assertThat(reqs1).isEqualTo(reqs2);
        assertThat(simulator(roofline(), 4096).run(reqs1)).isEqualTo(simulator(roofline(), 4096).run(reqs2));
        var other = ServingSimulator.poisson(20, 30, LengthDistribution.parse("lognormal:6:0.5"), LengthDistribution.parse("uniform:50:300"), 8);
        assertThat(other).isNotEqualTo(reqs1);
    }

    @Test
    void farBelowCapacityLatencyIsTheUnloadedRoofline() {
        Roofline r = roofline();
        // One request every 10 s, each done in well under a second: never two in the system.
        var reqs = new java.util.ArrayList<ServingSimulator.Request>();
        for (int i = 0; i < 100; i++) reqs.add(new ServingSimulator.Request(10.0 * i + 0.5, 512, 128));
        ServingSimulator.Result res = simulator(r, 1024).run(reqs);
        assertThat(res.meanRunningBatch()).isCloseTo(1.0, within(1e-9));
        double ttft = r.prefillSeconds(512);
        assertThat(res.ttft().p50()).isCloseTo(ttft, within(1e-12));
        assertThat(res.ttft().p99()).isCloseTo(ttft, within(1e-12));
        double decode = 0;
        for (int ctx = 513; ctx < 512 + 128; ctx++) decode += r.decodeStepSeconds(1, ctx);
        assertThat(res.tpot().p50()).isCloseTo(decode / 127, within(1e-12));
        assertThat(res.queueSeconds().p99()).isZero();
    }

    @Test
    void pastSaturationThroughputPlateausAtTheRooflineMaximumAndQueuesGrow() {
        Roofline r = roofline();
        // Short prompts, long outputs: serving is 256 running sequences decoding, so the ceiling is the
        // roofline's decode step at 256 sequences and their average context (prompt + half the output).
        LengthDistribution p = LengthDistribution.fixed(32), o = LengthDistribution.fixed(256);
        double ceiling = 256 / r.decodeStepSeconds(256, 32 + 256 / 2);
        ServingSimulator.Result at50 = simulator(r, 1024).run(ServingSimulator.poisson(50, 30, p, o, 1));
        ServingSimulator.Result at400 = simulator(r, 1024).run(ServingSimulator.poisson(400, 30, p, o, 1));
        ServingSimulator.Result at800 = simulator(r, 1024).run(ServingSimulator.poisson(800, 30, p, o, 1));
        // Below saturation throughput follows the offered load...
        assertThat(at50.outputTokensPerSecond()).isCloseTo(50 * 256, within(0.1 * 50 * 256));
        // ... past it, doubling the load changes nothing: a plateau at the roofline maximum.
        assertThat(at800.outputTokensPerSecond()).isCloseTo(at400.outputTokensPerSecond(), within(0.03 * at400.outputTokensPerSecond()));
        assertThat(at800.outputTokensPerSecond()).isLessThanOrEqualTo(ceiling * 1.001).isGreaterThan(ceiling * 0.9);
        assertThat(at800.meanRunningBatch()).isGreaterThan(250);
        // ... while waiting time grows with the overload and with the length of the run.
        assertThat(at400.queueSeconds().p50()).isGreaterThan(at50.queueSeconds().p50() + 1);
        assertThat(at800.queueSeconds().p50()).isGreaterThan(at400.queueSeconds().p50() * 1.5);
        ServingSimulator.Result longer = simulator(r, 1024).run(ServingSimulator.poisson(800, 60, p, o, 1));
        assertThat(longer.queueSeconds().p99()).isGreaterThan(at800.queueSeconds().p99() * 1.5);
    }

    @Test
    void prefillHeavyLoadNeverBeatsTheComputeAndBandwidthBounds() {
        Roofline r = roofline();
        int prompt = 512, output = 256;
        // Per request: every token through every matmul once, attention over its prefix; no schedule can beat peak FLOP/s.
        double attended = prompt * (prompt + 1.0) / 2;
        for (int g = 1; g < output; g++) attended += prompt + g;
        double flops = 2.0 * LLAMA3_8B.matmulParams() * (prompt + output - 1) + 4.0 * LLAMA3_8B.layers() * LLAMA3_8B.qDim() * attended;
        double computeBound = 1 / r.computeSeconds(flops);
        // A request holds one of 256 slots for `output` steps, and a step streams the weights at least once.
        double streamed = (double) WEIGHTS * LLAMA3_8B.matmulParams() / LLAMA3_8B.params();
        double bandwidthBound = 256.0 / output / r.memorySeconds(streamed);
        ServingSimulator.Result res = simulator(r, 1024).run(ServingSimulator.poisson(400, 60, LengthDistribution.fixed(prompt), LengthDistribution.fixed(output), 1));
        assertThat(res.requestsPerSecond()).isLessThan(Math.min(computeBound, bandwidthBound)).isGreaterThan(0.5 * Math.min(computeBound, bandwidthBound));
    }

    @Test
    void aLongPromptIsPrefilledInChunksOfTheStepBudget() {
        Roofline r = roofline();
        // 5000 tokens with a 2048-token step budget: chunks of 2048, 2048 and 904, each attending to what came before.
        ServingSimulator.Result res = simulator(r, 8192).run(List.of(new ServingSimulator.Request(0, 5000, 2)));
        double expected = 0;
        long done = 0;
        for (long chunk : new long[]{2048, 2048, 904}) {
            expected += r.stepSeconds(0, 0, chunk, chunk * (double) done + chunk * (chunk + 1.0) / 2, done + chunk);
            done += chunk;
        }
        assertThat(res.ttft().p50()).isCloseTo(expected, within(1e-12));
        assertThat(res.tpot().p50()).isCloseTo(r.decodeStepSeconds(1, 5001), within(1e-12));
        // Each chunk is compute-bound and the chunks' attention pairs add up to 5000 × 5001 / 2, so chunking costs
        // exactly what one 5000-token step would: streaming the weights three times hides under the arithmetic.
        assertThat(expected).isCloseTo(r.prefillSeconds(5000), within(1e-12));
        assertThat(r.memoryBound(1, 1)).isTrue(); // whereas one token alone is bandwidth-bound
    }

    @Test
    void traceFileDrivesTheRun() {
        var reqs = ServingSimulator.trace(List.of("arrival_s,prompt_tokens,output_tokens", "0.5, 100, 10", "0.0,200,20", "# comment", "2.0,50,5"));
        assertThat(reqs).containsExactly(new ServingSimulator.Request(0.0, 200, 20), new ServingSimulator.Request(0.5, 100, 10),
                new ServingSimulator.Request(2.0, 50, 5));
        ServingSimulator.Result res = simulator(roofline(), 1024).run(reqs);
        assertThat(res.requests()).isEqualTo(3);
        assertThat(res.outputTokensPerSecond() * res.makespanSeconds()).isCloseTo(35, within(1e-6));
        assertThatThrownBy(() -> ServingSimulator.trace(List.of("0.0,abc,3"))).isInstanceOf(CapacityException.class).hasMessageContaining("line 1");
    }

    @Test
    void smallestTensorParallelMeetingALatencyTarget() {
        ModelShape llama70 = ModelShapes.builtIn().find("Llama-3-70B").shape();
        ServingPlan plan = ServingPlan.of(llama70, 2 * llama70.params(), H100);
        var reqs = ServingSimulator.poisson(2, 60, LengthDistribution.fixed(512), LengthDistribution.fixed(128), 3);
        ServingPlan.LatencyTarget target = new ServingPlan.LatencyTarget(0.020, 1.0);
        ServingPlan.Search search = plan.smallestTensorParallel(reqs, target, 8);
        // 141 GB of fp16 weights cannot fit one 80 GB GPU.
        assertThat(search.trials().getFirst().failure()).contains("exceed").contains("H100-80GB-SXM");
        assertThat(search.gpus()).isNotNull();
        ServingPlan.Trial chosen = search.trials().getLast();
        assertThat(chosen.gpus()).isEqualTo(search.gpus());
        assertThat(target.metBy(chosen.result())).isTrue();
        for (ServingPlan.Trial t : search.trials().subList(0, search.trials().size() - 1)) {
            assertThat(t.result() == null || !target.metBy(t.result())).as("tp " + t.gpus()).isTrue();
        }
        // More GPUs speed the decode step up, but by less than N: the all-reduces cost time.
        if (search.gpus() < 8) {
            ServingSimulator.Result twice = plan.simulate(search.gpus() * 2, reqs);
            assertThat(twice.tpot().p50()).isLessThan(chosen.result().tpot().p50()).isGreaterThan(chosen.result().tpot().p50() / 2);
        }
    }

    @Test
    void littlesLawOnALongRun() {
        double rate = 30;
        var reqs = ServingSimulator.poisson(rate, 600, LengthDistribution.parse("uniform:100:900"), LengthDistribution.parse("uniform:20:400"), 11);
        ServingSimulator.Result res = simulator(roofline(), 2048).run(reqs);
        double littleL = rate * res.e2eSeconds().mean();
        assertThat(res.meanInSystem()).isCloseTo(littleL, within(0.02 * littleL));
    }

    @Test
    void kvPressurePreemptsAndStillCompletesEveryRequest() {
        Roofline r = roofline();
        // Only 64 blocks = 1024 tokens of cache: requests of 300+300 tokens must take turns.
        ServingSimulator sim = new ServingSimulator(r, 64);
        var reqs = List.of(new ServingSimulator.Request(0, 300, 300), new ServingSimulator.Request(0, 300, 300), new ServingSimulator.Request(0, 300, 300));
        ServingSimulator.Result res = sim.run(reqs);
        assertThat(res.requests()).isEqualTo(3);
        assertThat(res.preemptions()).isPositive();
        assertThat(res.kvUtilization()).isGreaterThan(0.5).isLessThanOrEqualTo(1.0);
    }

    @Test
    void tensorParallelSplitsWorkButPaysAllReduce() {
        Roofline one = roofline();
        Roofline two = new Roofline(LLAMA3_8B, H100, WEIGHTS, KvDType.FP16, Precision.FP16, 2);
        double t1 = one.decodeStepSeconds(1, 1024), t2 = two.decodeStepSeconds(1, 1024);
        assertThat(t2).isLessThan(t1).isGreaterThan(t1 / 2);
    }

    @Test
    void simulateCommandPrintsTheRunAsJsonAndRepeatsItForASeed(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        String[] a = new String[2], b = new String[2];
        String[] args = {"simulate", "--model", "Llama-3-8B", "--gpu", "A100-80GB-SXM", "--rate", "3", "--prompt-len", "uniform:100:900",
                "--output-len", "lognormal:5.0:0.5", "--duration", "60", "--seed", "4", "--json"};
        assertThat(CapacityTest.runFw(a, args)).as(a[1]).isZero();
        assertThat(CapacityTest.runFw(b, args)).isZero();
        assertThat(a[0]).isEqualTo(b[0]);
        var j = tools.jackson.databind.json.JsonMapper.builder().build().readTree(a[0]);
        for (String f : new String[]{"requestsPerSecond", "outputTokensPerSecond", "ttft", "tpot", "queueSeconds", "kvUtilization", "costPerMillionOutputTokens"}) {
            assertThat(j.has(f)).as(f).isTrue();
        }
        assertThat(j.get("tpot").get("p99").asDouble()).isGreaterThanOrEqualTo(j.get("tpot").get("p50").asDouble()).isPositive();
        // Cost is the hourly price spread over the output tokens of an hour.
        double perHour = GpuCatalog.builtIn().get("A100-80GB-SXM").hourlyUsd();
        assertThat(j.get("costPerMillionOutputTokens").asDouble()).isCloseTo(perHour / 3600 / j.get("outputTokensPerSecond").asDouble() * 1e6, within(1e-9));

        java.nio.file.Path trace = dir.resolve("trace.csv");
        java.nio.file.Files.writeString(trace, "arrival_s,prompt_tokens,output_tokens\n0.0,512,64\n0.25,128,32\n");
        assertThat(CapacityTest.runFw(a, "simulate", "--model", "Llama-3-8B", "--gpu", "H100-80GB-SXM", "--trace", trace.toString(), "--json")).as(a[1]).isZero();
        assertThat(tools.jackson.databind.json.JsonMapper.builder().build().readTree(a[0]).get("requests").asInt()).isEqualTo(2);
        assertThat(CapacityTest.runFw(a, "simulate", "--model", "Llama-3-8B", "--gpu", "H100-80GB-SXM")).isNotZero();
        assertThat(a[1]).contains("--rate or --trace");
    }
}

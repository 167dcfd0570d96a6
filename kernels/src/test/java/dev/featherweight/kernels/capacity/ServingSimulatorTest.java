package dev.featherweight.kernels.capacity;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
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
    void pastSaturationThroughputPlateausAndQueuesGrow() {
        Roofline r = roofline();
        LengthDistribution p = LengthDistribution.fixed(512), o = LengthDistribution.fixed(256);
        ServingSimulator.Result at50 = simulator(r, 1024).run(ServingSimulator.poisson(50, 60, p, o, 1));
        ServingSimulator.Result at200 = simulator(r, 1024).run(ServingSimulator.poisson(200, 60, p, o, 1));
        ServingSimulator.Result at400 = simulator(r, 1024).run(ServingSimulator.poisson(400, 60, p, o, 1));
        // Throughput stops following the offered load...
        assertThat(at400.outputTokensPerSecond() / at200.outputTokensPerSecond()).isLessThan(1.1);
        // ... at the roofline maximum: the max batch (256 running) at the average context decodes this fast.
        double ceiling = 256 / r.decodeStepSeconds(256, 512 + 128);
        assertThat(at400.outputTokensPerSecond()).isLessThanOrEqualTo(ceiling * 1.05).isGreaterThan(ceiling * 0.5);
        // ... while waiting time grows with the overload.
        assertThat(at400.queueSeconds().p50()).isGreaterThan(at200.queueSeconds().p50());
        assertThat(at200.queueSeconds().p50()).isGreaterThan(at50.queueSeconds().p50());
        ServingSimulator.Result longer = simulator(r, 1024).run(ServingSimulator.poisson(400, 120, p, o, 1));
        assertThat(longer.queueSeconds().p99()).isGreaterThan(at400.queueSeconds().p99() * 1.5);
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
}

package dev.featherweight.catalog.methods;

import dev.featherweight.catalog.Parameter;

import java.util.List;

/** Parameters the integer-grid methods (RTN, GPTQ, AWQ) share, so they are described and checked alike. */
final class Uniform {
    static final List<Integer> BITS = List.of(2, 3, 4, 8);
    static final List<Integer> GROUP_SIZES = List.of(-1, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096);
    /** Calibration samples: at least one, at most what a worker could hold (the device check refuses earlier). */
    static final int MAX_SAMPLES = 1 << 20;
    static final int MIN_SEQ_LEN = 8, MAX_SEQ_LEN = 1 << 17;

    static Parameter bits(int defaultBits, List<Integer> allowed) {
        return Parameter.integer("bits", defaultBits, "bits per weight code").allowed(allowed);
    }

    static Parameter groupSize(int defaultGroup) {
        return Parameter.integer("groupSize", defaultGroup, "input features sharing one scale and zero point; -1 = one group per output row")
                .allowed(GROUP_SIZES);
    }

    static Parameter samples(int defaultSamples) {
        return Parameter.integer("calibrationSamples", defaultSamples, "calibration sequences drawn from the calibration text").range(1, MAX_SAMPLES);
    }

    static Parameter seqLen(int defaultSeqLen, String capNote) {
        return Parameter.integer("calibrationSeqLen", defaultSeqLen, "tokens per calibration sequence" + capNote).range(MIN_SEQ_LEN, MAX_SEQ_LEN);
    }

    private Uniform() {
    }
}

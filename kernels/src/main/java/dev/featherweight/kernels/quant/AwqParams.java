package dev.featherweight.kernels.quant;

/**
 * AWQ ({@link Awq}): grid bits and group size (always with zero points), duo scaling in the scale search, and how many
 * calibration samples the search evaluates each candidate on (the statistics use all). AutoAWQ's gemm layout packs
 * 4-bit codes only, so AWQ at other widths is written in the GPTQ layout, whose classic zero − 1 storage cannot hold
 * AWQ's zero points of 0: as gptq_v2.
 */
public record AwqParams(int bits, int groupSize, boolean duoScaling, int searchSamples) implements UniformGridParams {
    public static final AwqParams DEFAULTS = new AwqParams(4, 128, true, 16);

    public AwqParams {
        Rtn.checkBits(bits);
        if (searchSamples < 1) throw new IllegalArgumentException("AWQ searchSamples must be at least 1, got " + searchSamples);
    }

    static AwqParams of(ParamValues v) {
        if (v.bool("symmetric", false)) throw new IllegalArgumentException("AWQ gemm checkpoints are asymmetric (zero_point true); drop --sym");
        AwqParams d = DEFAULTS;
        return new AwqParams(v.integer("bits", d.bits), v.integer("groupSize", d.groupSize), v.bool("duoScaling", d.duoScaling),
                v.integer("searchSamples", d.searchSamples));
    }

    public String method() {
        return "awq";
    }

    public boolean sym() {
        return false;
    }

    public boolean gptqV2() {
        return bits != 4;
    }
}

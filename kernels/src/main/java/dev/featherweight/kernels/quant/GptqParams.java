package dev.featherweight.kernels.quant;

/**
 * GPTQ ({@link Gptq}): the grid ({@code bits}, {@code groupSize}, {@code sym}), act-order ({@code descAct}), static
 * groups, damping, whether q/k/v → o → gate/up → down are quantized in sequence (true_sequential), and the zero-point
 * storage. Defaults: 4 bits, group 128, symmetric, no act-order, damp 0.01, true-sequential, classic zero − 1.
 */
public record GptqParams(int bits, int groupSize, boolean sym, boolean actOrder, boolean staticGroups, double dampPercent,
                         boolean trueSequential, boolean gptqV2) implements UniformGridParams {
    public static final GptqParams DEFAULTS = new GptqParams(4, 128, true, false, false, 0.01, true, false);

    public GptqParams {
        // what Gptq.quantize refuses, refused before any block runs
        new Gptq.Options(bits, groupSize, sym, actOrder, staticGroups, dampPercent, !gptqV2);
    }

    static GptqParams of(ParamValues v) {
        GptqParams d = DEFAULTS;
        return new GptqParams(v.integer("bits", d.bits), v.integer("groupSize", d.groupSize), v.bool("symmetric", d.sym),
                v.bool("descAct", d.actOrder), v.bool("staticGroups", d.staticGroups), v.number("damp", d.dampPercent),
                v.bool("trueSequential", d.trueSequential), v.bool("gptqV2", d.gptqV2));
    }

    /** The algorithm's options for one module (bits and group size may be overridden per module). */
    public Gptq.Options options(int moduleBits, int moduleGroupSize) {
        return new Gptq.Options(moduleBits, moduleGroupSize, sym, actOrder, staticGroups, dampPercent, !gptqV2);
    }

    public String method() {
        return "gptq";
    }

    @Override
    public boolean takesOverrides() {
        return true;
    }
}

package dev.featherweight.kernels.quant;

/** bitsandbytes 4-bit ({@link Nf4}): the NF4 or FP4 code book over blocks of {@link Nf4#BLOCK}, optionally double-quantized absmax. */
public record Bnb4Params(Nf4.Type type, boolean doubleQuant) implements QuantizationParams {

    static Bnb4Params of(Nf4.Type type, ParamValues v) {
        int block = v.integer("blockSize", Nf4.BLOCK);
        if (block != Nf4.BLOCK) throw new IllegalArgumentException("blockSize: these kernels write bitsandbytes' blocks of " + Nf4.BLOCK + " weights, got " + block);
        return new Bnb4Params(type, v.bool("doubleQuant", false));
    }

    public String method() {
        return type.label;
    }

    public int bits() {
        return 4;
    }

    public int groupSize() {
        return Nf4.BLOCK;
    }
}

package dev.featherweight.kernels.quant;

/** Round to nearest on a uniform grid per group ({@link Rtn}), written in the GPTQ layout. */
public record RtnParams(int bits, int groupSize, boolean sym, boolean gptqV2) implements UniformGridParams {
    public RtnParams {
        Rtn.checkBits(bits);
    }

    static RtnParams of(ParamValues v) {
        return new RtnParams(v.integer("bits", 4), v.integer("groupSize", 128), v.bool("symmetric", true), v.bool("gptqV2", false));
    }

    public String method() {
        return "rtn";
    }

    @Override
    public boolean takesOverrides() {
        return true;
    }
}

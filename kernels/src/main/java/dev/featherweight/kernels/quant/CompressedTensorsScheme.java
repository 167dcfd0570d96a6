package dev.featherweight.kernels.quant;

import java.util.Locale;

/**
 * compressed-tensors' preset schemes this engine writes (quantization/quant_scheme.py {@code PRESET_SCHEMES}), with
 * the checkpoint format each is stored in: integer weight-only schemes are packed into int32 words
 * ({@code pack-quantized}), int8 weights with int8 activations are stored as int8 ({@code int-quantized}), FP8 as
 * float8_e4m3fn ({@code float-quantized}).
 */
public enum CompressedTensorsScheme {
    /** int4 weights, group 128 (or per channel), 16-bit activations. */
    W4A16(4, false, Activations.NONE, "pack-quantized"),
    /** int8 weights per channel, 16-bit activations. */
    W8A16(8, false, Activations.NONE, "pack-quantized"),
    /** int8 weights per channel (symmetric), int8 activations scaled per token at run time. */
    W8A8(8, false, Activations.DYNAMIC_TOKEN, "int-quantized"),
    /** FP8 E4M3 weights per channel, FP8 activations scaled per token at run time. */
    FP8_DYNAMIC(8, true, Activations.DYNAMIC_TOKEN, "float-quantized"),
    /** FP8 E4M3 weights per tensor, FP8 activations with one calibrated scale per tensor (input_scale). */
    FP8(8, true, Activations.STATIC_TENSOR, "float-quantized");

    public enum Activations { NONE, DYNAMIC_TOKEN, STATIC_TENSOR }

    public final int bits;
    public final boolean fp8;
    public final Activations activations;
    /** The compressed-tensors {@code format} (CompressionFormat value). */
    public final String format;

    CompressedTensorsScheme(int bits, boolean fp8, Activations activations, String format) {
        this.bits = bits;
        this.fp8 = fp8;
        this.activations = activations;
        this.format = format;
    }

    public boolean weightOnly() {
        return activations == Activations.NONE;
    }

    public static CompressedTensorsScheme parse(String s) {
        String n = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        if (n.equals("INT8")) n = "W8A8"; // compressed-tensors' alias
        try {
            return valueOf(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown compressed-tensors scheme '" + s + "' (W4A16, W8A16, W8A8, FP8_DYNAMIC, FP8)");
        }
    }
}

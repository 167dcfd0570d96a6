package dev.featherweight.catalog.methods;

import dev.featherweight.catalog.Parameter;
import dev.featherweight.catalog.capacity.ModelShape;

import java.util.List;

/** What NF4 and FP4 share: bitsandbytes' 4-bit layout, its block sizes and its size. */
final class Bnb4 {
    /**
     * bitsandbytes takes 32..4096, but what transformers loads for a bnb-4bit folder and what the kernels write is
     * its default of 64: the catalogue offers only what the engine runs, so a job is refused at submit, not at the worker.
     */
    static final List<Integer> BLOCK_SIZES = List.of(64);
    /** bitsandbytes' double quantization groups 256 absmax values under one fp32 scale. */
    static final int DQ_GROUP = 256;

    static List<Parameter> parameters() {
        return List.of(
                Parameter.integer("blockSize", 64, "weights per absmax block (bitsandbytes blocksize)").allowed(BLOCK_SIZES),
                Parameter.bool("doubleQuant", false, "quantize the absmax values to 8 bits in groups of 256 (QLoRA's double quantization)"));
    }

    static String output(String type) {
        return "bitsandbytes folder: model.safetensors with packed 4-bit codes (uint8, two per byte), absmax per block, quant_map and "
                + "quant_state per linear layer, config.json with quantization_config (load_in_4bit, bnb_4bit_quant_type " + type
                + "), tokenizer files; loads in transformers with bitsandbytes";
    }

    /** Codes at half a byte per weight plus absmax: fp32 per block, or one byte per block plus an fp32 per 256 blocks when double-quantized. */
    static long linearBytes(ModelShape s, int blockSize, boolean doubleQuant) {
        long weights = (long) s.layers() * s.blockMatmulParams();
        long blocks = (weights + blockSize - 1) / blockSize;
        long absmax = doubleQuant ? blocks + (blocks + DQ_GROUP - 1) / DQ_GROUP * 4 : blocks * 4;
        return weights / 2 + absmax;
    }

    static double bitsPerWeight(int blockSize, boolean doubleQuant) {
        return 4.0 + (doubleQuant ? 8.0 / blockSize + 32.0 / (blockSize * DQ_GROUP) : 32.0 / blockSize);
    }

    private Bnb4() {
    }
}

package dev.featherweight.quantizer;

import dev.featherweight.contracts.Recipe;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a quantization task costs on the device, from the model's config.json and the recipe: the peak
 * memory of one transformer block (weights in fp16, their quantized copy, GPTQ's Hessians d_in × d_in in
 * fp32, calibration activations in and out of the block, the calibration KV cache), and per block the
 * FLOPs and bytes for the roofline.
 */
public record WorkModel(int layers, long hidden, long intermediate, long qDim, long kvDim, long vocab, Map<String, Long> peakParts,
                        double flopsPerBlock, double bytesPerBlock, double flopsOther, double bytesOther) {

    public long peakBytes() {
        return peakParts.values().stream().mapToLong(Long::longValue).sum();
    }

    public String describe() {
        return peakParts.entrySet().stream().map(e -> e.getKey() + " " + gb(e.getValue())).collect(Collectors.joining(" + "));
    }

    /** Bytes in decimal GB, as GPU vendors state memory. */
    public static String gb(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.2f GB", bytes / 1e9);
    }

    public static WorkModel of(Path modelDir, Recipe recipe) throws IOException {
        JsonNode c = JsonMapper.shared().readTree(Files.readString(modelDir.resolve("config.json")));
        int layers = c.path("num_hidden_layers").asInt();
        long h = c.path("hidden_size").asLong();
        long i = c.path("intermediate_size").asLong();
        long heads = c.path("num_attention_heads").asLong();
        long kvHeads = c.path("num_key_value_heads").asLong(heads);
        long headDim = c.path("head_dim").asLong(heads == 0 ? 0 : h / heads);
        long vocab = c.path("vocab_size").asLong();
        if (layers <= 0 || h <= 0 || i <= 0 || heads <= 0 || vocab <= 0)
            throw new IOException(modelDir.resolve("config.json") + ": missing num_hidden_layers, hidden_size, intermediate_size, num_attention_heads or vocab_size");
        long q = heads * headDim, kv = kvHeads * headDim;
        long blockParams = h * q + 2 * h * kv + q * h + 3 * h * i;
        long fp16 = 2;
        Map<String, Long> parts = new LinkedHashMap<>();
        parts.put("block weights fp16", blockParams * fp16);
        parts.put("quantized block", blockParams * Math.max(1, recipe.nominalBits()) / 8);
        double flops, bytes = blockParams * fp16 * 2.0;
        long tokens = 0;
        switch (recipe) {
            case Recipe.Gptq g -> {
                tokens = (long) g.calibrationSamples() * g.calibrationSeqLen();
                // one Hessian per distinct input: q/k/v share h, o has q, gate/up share h, down has i
                parts.put("hessians fp32", 4 * (h * h + q * q + h * h + i * i));
                // GPTQ: forward the calibration set (2 flops/param/token), accumulate H (2·tokens·d_in² per input), invert, sweep columns
                flops = 2.0 * tokens * blockParams + 2.0 * tokens * (2 * h * h + q * q + i * i)
                        + (2 * h * h * h + q * q * q + i * i * i) / 3.0 + 2.0 * blockParams * Math.max(h, i);
            }
            case Recipe.Awq a -> {
                tokens = (long) a.calibrationSamples() * a.calibrationSeqLen();
                flops = 2.0 * tokens * blockParams * 21; // forward + a 20-point grid search of scales
            }
            default -> flops = 10.0 * blockParams; // round to nearest: a few operations per weight
        }
        if (tokens > 0) {
            parts.put("calibration activations fp16", 2 * tokens * Math.max(h, i) * fp16);
            parts.put("calibration KV cache fp16", 2 * tokens * kv * fp16);
            bytes += 2.0 * tokens * Math.max(h, i) * fp16;
        }
        // embeddings and output head are quantized alone (after the blocks) by gguf; others keep them
        long other = 2 * vocab * h;
        double flopsOther = recipe instanceof Recipe.Gguf ? 10.0 * other : 0;
        double bytesOther = recipe instanceof Recipe.Gguf ? other * fp16 * 2.0 : other * fp16;
        return new WorkModel(layers, h, i, q, kv, vocab, parts, flops, bytes, flopsOther, bytesOther);
    }
}

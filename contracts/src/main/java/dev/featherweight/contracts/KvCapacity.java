package dev.featherweight.contracts;

import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * How many tokens and sequences of KV cache fit beside the weights on a GPU, from a model's config.json:
 * KV bytes per token = 2 (K and V) × layers × kv heads × head dim × bytes per element, so MHA, MQA and GQA
 * come out right. Preallocated max-length sequences, no utilization fraction or workspace overhead — the
 * kernels' capacity package refines this (paged blocks, overhead, roofline) and replaces it when wired in.
 */
public final class KvCapacity {

    public record Row(String gpu, long deviceBytes, long weightBytes, long kvBytesPerToken, long kvBytesPerSequence,
                      long maxTokens, long maxSequences) {}

    public static double elementBytes(String kvDtype) {
        return switch (kvDtype) {
            case "f32" -> 4;
            case "f16", "bf16" -> 2;
            case "q8_0" -> 34.0 / 32; // 32 int8 + one f16 scale per block of 32
            case "q4_0" -> 18.0 / 32; // 32 nibbles + one f16 scale per block of 32
            default -> throw new IllegalArgumentException("kv dtype '" + kvDtype + "'; one of " + EvalSpec.KV_DTYPES);
        };
    }

    public static long kvBytesPerToken(JsonNode config, String kvDtype) {
        long layers = config.path("num_hidden_layers").asLong();
        long heads = config.path("num_attention_heads").asLong();
        long kvHeads = config.path("num_key_value_heads").asLong(heads);
        long headDim = config.path("head_dim").asLong(heads == 0 ? 0 : config.path("hidden_size").asLong() / heads);
        if (layers <= 0 || heads <= 0 || headDim <= 0)
            throw new IllegalArgumentException("config.json lacks num_hidden_layers, num_attention_heads or hidden_size/head_dim");
        return (long) Math.ceil(2.0 * layers * kvHeads * headDim * elementBytes(kvDtype));
    }

    public static List<Row> table(JsonNode config, long weightBytes, List<String> gpus, int ctx, String kvDtype) {
        long perToken = kvBytesPerToken(config, kvDtype);
        List<Row> rows = new ArrayList<>();
        for (String name : gpus) {
            Gpu g = Gpu.named(name);
            long tokens = Math.max(0, g.memoryBytes() - weightBytes) / perToken;
            rows.add(new Row(g.name(), g.memoryBytes(), weightBytes, perToken, perToken * ctx, tokens, tokens / ctx));
        }
        return rows;
    }

    private KvCapacity() {}
}

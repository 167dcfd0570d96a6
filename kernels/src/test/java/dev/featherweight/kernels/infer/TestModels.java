package dev.featherweight.kernels.infer;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;

final class TestModels {
    static LlamaModel loadHf(Path dir) throws IOException {
        JsonNode j = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        int heads = j.get("num_attention_heads").asInt();
        int dim = j.get("hidden_size").asInt();
        var cfg = new LlamaModel.Config("llama", dim, j.get("intermediate_size").asInt(), j.get("num_hidden_layers").asInt(),
                heads, j.get("num_key_value_heads").asInt(), j.has("head_dim") ? j.get("head_dim").asInt() : dim / heads,
                j.get("vocab_size").asInt(), (float) j.get("rms_norm_eps").asDouble(), j.get("rope_theta").asDouble(), null,
                LlamaModel.RopeLayout.ROTATE_HALF, 1, 2, true, j.get("max_position_embeddings").asInt());
        return LlamaModel.load(cfg, new MiniSafetensors(dir.resolve("model.safetensors")), LlamaModel.Naming.HF, new Parallel(2));
    }
}

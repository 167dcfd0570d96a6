package dev.featherweight.eval;

import dev.featherweight.contracts.KvCapacity;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Capacity from config.json: KV bytes per token = 2 (K and V) × layers × kv heads × head dim × bytes per
 * element of the KV dtype; tokens that fit = (device memory − weights) / that. Perplexity is delegated to
 * the kernels once their inference lands; until then {@link #supportsPerplexity} is false.
 */
public class BasicEvaluationEngine implements EvaluationEngine {

    @Override
    public boolean supportsPerplexity(Path model) {
        return false;
    }

    @Override
    public double perplexity(Path model, Path text, int ctx, int chunks) throws Exception {
        throw new UnsupportedOperationException("perplexity");
    }

    @Override
    public List<CapacityRow> capacity(Path sourceModel, long weightBytes, List<String> gpus, int ctx, String kvDtype) throws IOException {
        JsonNode c = JsonMapper.shared().readTree(Files.readString(sourceModel.resolve("config.json")));
        return KvCapacity.table(c, weightBytes, gpus, ctx, kvDtype).stream()
                .map(r -> new CapacityRow(r.gpu(), r.deviceBytes(), r.weightBytes(), r.kvBytesPerToken(), r.maxTokens(), r.maxSequences())).toList();
    }

    @Override
    public String version() {
        return "featherweight-eval (capacity from config.json)";
    }
}

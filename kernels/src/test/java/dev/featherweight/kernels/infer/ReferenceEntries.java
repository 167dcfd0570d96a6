package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** The entries of ../shared/reference/perplexity.json, read at test time (never copied into tests). */
final class ReferenceEntries {
    static JsonNode root() {
        return new ObjectMapper().readTree(SharedData.shared("reference/perplexity.json").toFile());
    }

    static List<JsonNode> results(Predicate<JsonNode> filter) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode r : root().get("results")) if (filter.test(r)) out.add(r);
        return out;
    }

    static String s(JsonNode r, String field) {
        JsonNode n = r.get(field);
        return n == null || n.isNull() ? null : n.asString();
    }
}

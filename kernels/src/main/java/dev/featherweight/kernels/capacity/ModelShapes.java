package dev.featherweight.kernels.capacity;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Published model shapes by name ({@code models.json} beside this class, in config.json's own keys), so a
 * model can be sized before any file of it exists. Extendable with a file of the same form.
 */
public final class ModelShapes {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** A named shape and the dtype its checkpoint is published in ("float16", "bfloat16", …). */
    public record Entry(ModelShape shape, String torchDtype) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();

    public static ModelShapes builtIn() {
        ModelShapes m = new ModelShapes();
        try (InputStream in = ModelShapes.class.getResourceAsStream("models.json")) {
            if (in == null) throw new IllegalStateException("models.json missing from the kernels jar");
            m.addAll(JSON.readTree(in), "models.json");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    /** Adds or replaces entries from a JSON file {@code {"models": {"Name": {config.json keys}}}}. */
    public ModelShapes extend(Path file) {
        try {
            addAll(JSON.readTree(file.toFile()), file.toString());
        } catch (JacksonException e) {
            throw new CapacityException(file + ": malformed model catalog: " + e.getOriginalMessage());
        }
        return this;
    }

    private void addAll(JsonNode root, String origin) {
        for (var e : root.path("models").properties()) {
            JsonNode c = e.getValue();
            entries.put(e.getKey().toLowerCase(Locale.ROOT), new Entry(fromConfigJson(e.getKey(), c, origin), c.path("torch_dtype").asString(null)));
        }
    }

    /** The shape config.json describes, with the same defaults as transformers (kv heads = heads, head_dim = hidden / heads). */
    static ModelShape fromConfigJson(String name, JsonNode c, String origin) {
        int hidden = required(c, "hidden_size", name, origin), heads = required(c, "num_attention_heads", name, origin);
        int kvHeads = c.path("num_key_value_heads").asInt(heads);
        int headDim = c.path("head_dim").asInt(hidden / heads);
        return new ModelShape(name, required(c, "num_hidden_layers", name, origin), hidden, heads, kvHeads, headDim,
                required(c, "intermediate_size", name, origin), required(c, "vocab_size", name, origin),
                c.path("tie_word_embeddings").asBoolean(false), c.path("max_position_embeddings").asInt(2048),
                c.path("attention_bias").asBoolean(false));
    }

    private static int required(JsonNode c, String key, String name, String origin) {
        int v = c.path(key).asInt(0);
        if (v <= 0) throw new CapacityException(origin + ": model " + name + " lacks a positive '" + key + "'");
        return v;
    }

    /** The entry of that name (case-insensitive), or null. */
    public Entry find(String name) {
        return entries.get(name.toLowerCase(Locale.ROOT));
    }

    public List<String> names() {
        return entries.values().stream().map(e -> e.shape().name()).toList();
    }
}

package dev.featherweight.catalog.capacity;

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
            if (in == null) throw new IllegalStateException("models.json missing from the catalog jar");
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
            entries.put(e.getKey().toLowerCase(Locale.ROOT), new Entry(ModelShape.fromConfigJson(e.getKey(), c, origin), c.path("torch_dtype").asString(null)));
        }
    }

    /** The entry of that name (case-insensitive), or null. */
    public Entry find(String name) {
        return entries.get(name.toLowerCase(Locale.ROOT));
    }

    public List<String> names() {
        return entries.values().stream().map(e -> e.shape().name()).toList();
    }
}

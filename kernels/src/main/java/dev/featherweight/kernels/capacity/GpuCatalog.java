package dev.featherweight.kernels.capacity;

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
 * The GPUs Featherweight can size and simulate: the built-in table ({@code gpus.json} beside this class)
 * plus any entries added from a file of the same format (a deployment's own GPUs or prices).
 */
public final class GpuCatalog {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final Map<String, Gpu> gpus = new LinkedHashMap<>();

    /** The built-in catalog. */
    public static GpuCatalog builtIn() {
        GpuCatalog c = new GpuCatalog();
        try (InputStream in = GpuCatalog.class.getResourceAsStream("gpus.json")) {
            if (in == null) throw new IllegalStateException("gpus.json missing from the kernels jar");
            c.addAll(JSON.readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return c;
    }

    /** Adds or replaces entries from a JSON file ({@code {"gpus": [...]}}, fields as in the built-in file). */
    public GpuCatalog extend(Path file) {
        addAll(JSON.readTree(file.toFile()));
        return this;
    }

    public GpuCatalog add(Gpu gpu) {
        gpus.put(gpu.name().toLowerCase(Locale.ROOT), gpu);
        return this;
    }

    private void addAll(JsonNode root) {
        for (JsonNode g : root.path("gpus")) {
            add(new Gpu(g.get("name").asString(), Math.round(g.get("memoryGB").asDouble() * 1e9), g.get("bandwidthGBs").asDouble() * 1e9,
                    g.get("fp16Tflops").asDouble() * 1e12, g.path("int8Tops").asDouble(g.get("fp16Tflops").asDouble() * 2) * 1e12,
                    g.path("fp8").asBoolean(false), g.path("interconnectGBs").asDouble(32) * 1e9, g.path("hourlyUsd").asDouble(0)));
        }
    }

    /** The GPU of that name (case-insensitive); an unknown name fails listing the known ones. */
    public Gpu get(String name) {
        Gpu g = gpus.get(name.toLowerCase(Locale.ROOT));
        if (g == null) throw new CapacityException("unknown GPU '" + name + "'; known: " + String.join(", ", names()));
        return g;
    }

    public List<String> names() {
        return gpus.values().stream().map(Gpu::name).toList();
    }

    public List<Gpu> all() {
        return List.copyOf(gpus.values());
    }
}

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
 * The GPUs Featherweight can size and simulate: the built-in table ({@code gpus.json} beside this class)
 * plus any entries added from a file of the same format (a deployment's own GPUs or prices).
 */
public final class GpuCatalog {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Per-direction link bandwidth assumed when an entry names its interconnect but not its speed (NVLink 3, PCIe Gen4 x16). */
    public static final double NVLINK_GBS = 300, PCIE_GBS = 32;
    private final Map<String, Gpu> gpus = new LinkedHashMap<>();

    /** The built-in catalog. */
    public static GpuCatalog builtIn() {
        GpuCatalog c = new GpuCatalog();
        try (InputStream in = GpuCatalog.class.getResourceAsStream("gpus.json")) {
            if (in == null) throw new IllegalStateException("gpus.json missing from the catalog jar");
            c.addAll(JSON.readTree(in), "gpus.json");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return c;
    }

    /**
     * Adds or replaces entries from a JSON file ({@code {"gpus": [...]}}, fields as in the built-in file).
     * An entry naming a GPU already known may give only the fields it changes (e.g. {@code hourlyUsd}).
     */
    public GpuCatalog extend(Path file) {
        try {
            addAll(JSON.readTree(file.toFile()), file.toString());
        } catch (JacksonException e) {
            throw new CapacityException(file + ": malformed GPU catalog: " + e.getOriginalMessage());
        }
        return this;
    }

    public GpuCatalog add(Gpu gpu) {
        gpus.put(gpu.name().toLowerCase(Locale.ROOT), gpu);
        return this;
    }

    /** Sets the price of one GPU-hour of a known GPU (the platform binds prices from its configuration). */
    public GpuCatalog withHourlyUsd(String name, double usd) {
        return add(get(name).withHourlyUsd(usd));
    }

    private void addAll(JsonNode root, String origin) {
        if (!root.path("gpus").isArray()) throw new CapacityException(origin + ": expected {\"gpus\": [...]}");
        for (JsonNode g : root.path("gpus")) {
            String name = g.path("name").asString(null);
            if (name == null || name.isBlank()) throw new CapacityException(origin + ": a GPU entry has no name");
            Gpu base = gpus.get(name.toLowerCase(Locale.ROOT));
            double fp16 = number(g, "fp16Tflops", base == null ? null : base.fp16Flops() / 1e12, origin, name) * 1e12;
            String link = g.path("interconnect").asString(base == null ? "pcie" : base.interconnect());
            Double linkDefault = base != null && !g.has("interconnect") ? Double.valueOf(base.interconnectBps() / 1e9)
                    : Double.valueOf(link.equals("pcie") ? PCIE_GBS : NVLINK_GBS);
            add(new Gpu(name,
                    Math.round(number(g, "memoryGB", base == null ? null : base.memoryBytes() / 1e9, origin, name) * 1e9),
                    number(g, "bandwidthGBs", base == null ? null : base.bandwidthBps() / 1e9, origin, name) * 1e9,
                    fp16,
                    number(g, "int8Tops", base == null ? 2 * fp16 / 1e12 : base.int8Ops() / 1e12, origin, name) * 1e12,
                    g.path("fp8").asBoolean(base != null && base.fp8()),
                    link,
                    number(g, "interconnectGBs", linkDefault, origin, name) * 1e9,
                    number(g, "hourlyUsd", base == null ? 0.0 : base.hourlyUsd(), origin, name)));
        }
    }

    private static double number(JsonNode g, String field, Double fallback, String origin, String name) {
        JsonNode v = g.get(field);
        if (v == null || v.isNull()) {
            if (fallback == null) throw new CapacityException(origin + ": GPU " + name + " lacks '" + field + "'");
            return fallback;
        }
        if (!v.isNumber()) throw new CapacityException(origin + ": GPU " + name + ": '" + field + "' is not a number");
        return v.asDouble();
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

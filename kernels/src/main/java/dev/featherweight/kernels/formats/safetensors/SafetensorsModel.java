package dev.featherweight.kernels.formats.safetensors;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.TensorSource;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The weights of a Hugging Face folder: {@code model.safetensors}, or the shards listed by
 * {@code model.safetensors.index.json} ({@code weight_map: tensor -> shard file}). Every shard is mapped
 * once; tensors resolve to the shard the index names, and the index must agree with the shards.
 */
public final class SafetensorsModel implements TensorSource {
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final Map<String, SafetensorsFile> byTensor;
    private final List<SafetensorsFile> shards;

    private SafetensorsModel(Path dir, Map<String, SafetensorsFile> byTensor, List<SafetensorsFile> shards) {
        this.dir = dir;
        this.byTensor = byTensor;
        this.shards = shards;
    }

    /** True when the folder holds safetensors weights this class can open. */
    public static boolean isModelFolder(Path dir) {
        return Files.isRegularFile(dir.resolve(INDEX)) || Files.isRegularFile(dir.resolve(SINGLE));
    }

    public static SafetensorsModel open(Path dir) {
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index)) return openSharded(dir, index);
        Path single = dir.resolve(SINGLE);
        if (!Files.isRegularFile(single)) {
            throw new FormatException(dir, "no " + SINGLE + " or " + INDEX + " in this folder");
        }
        SafetensorsFile f = SafetensorsFile.open(single);
        Map<String, SafetensorsFile> by = new LinkedHashMap<>();
        for (String n : f.names()) by.put(n, f);
        return new SafetensorsModel(dir, by, List.of(f));
    }

    private static SafetensorsModel openSharded(Path dir, Path index) {
        JsonNode root;
        try {
            root = JsonMapper.builder().build().readTree(index.toFile());
        } catch (JacksonException e) {
            throw new FormatException(index, null, "malformed index JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new FormatException(index, "no weight_map object");
        Map<String, SafetensorsFile> openShards = new LinkedHashMap<>();
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, JsonNode> e : map.properties()) {
                String tensor = e.getKey();
                String shardName = e.getValue().asString();
                if (shardName.contains("/") || shardName.contains("\\") || shardName.equals("..")) {
                    throw new FormatException(index, tensor, "shard name '" + shardName + "' leaves the model folder");
                }
                SafetensorsFile shard = openShards.get(shardName);
                if (shard == null) {
                    Path shardPath = dir.resolve(shardName);
                    if (!Files.isRegularFile(shardPath)) {
                        throw new FormatException(index, tensor, "shard '" + shardName + "' named by the index is missing");
                    }
                    shard = SafetensorsFile.open(shardPath);
                    openShards.put(shardName, shard);
                }
                if (!shard.has(tensor)) {
                    throw new FormatException(shard.path(), tensor, "listed in " + INDEX + " but not in this shard");
                }
                byTensor.put(tensor, shard);
            }
            return new SafetensorsModel(dir, byTensor, new ArrayList<>(openShards.values()));
        } catch (RuntimeException e) {
            openShards.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    @Override
    public Path path() {
        return dir;
    }

    @Override
    public List<String> names() {
        return List.copyOf(byTensor.keySet());
    }

    @Override
    public boolean has(String name) {
        return byTensor.containsKey(name);
    }

    @Override
    public Tensor tensor(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) throw new FormatException(dir, name, "no such tensor in this model");
        return f.tensor(name);
    }

    /** The mapped shard files (one for an unsharded model). */
    public List<SafetensorsFile> shards() {
        return List.copyOf(shards);
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}

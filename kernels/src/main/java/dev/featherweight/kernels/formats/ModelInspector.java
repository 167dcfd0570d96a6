package dev.featherweight.kernels.formats;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufTensorInfo;
import dev.featherweight.kernels.formats.gguf.GgufValue;
import dev.featherweight.kernels.formats.safetensors.SafetensorsDType;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Describes a model without running it: a .gguf file, a .safetensors file, or a Hugging Face folder.
 * Reads only headers (the tensor data stays mapped and untouched), so it is instant on any size.
 */
public final class ModelInspector {
    private ModelInspector() {
    }

    public static ModelSummary inspect(Path path) {
        if (!Files.exists(path)) throw new FormatException(path, "no such file or folder");
        if (Files.isDirectory(path)) return huggingFaceFolder(path);
        String name = path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".gguf")) return gguf(path);
        if (name.endsWith(".safetensors")) return safetensorsFile(path);
        throw new FormatException(path, "unknown model format (expected a .gguf or .safetensors file, or a Hugging Face folder)");
    }

    private static ModelSummary gguf(Path path) {
        try (GgufFile g = GgufFile.open(path)) {
            ModelCheck.checkForInspect(g);
            List<ModelSummary.TensorEntry> tensors = new ArrayList<>();
            long params = 0, bytes = 0;
            for (GgufTensorInfo t : g.tensorInfos()) {
                tensors.add(new ModelSummary.TensorEntry(t.name(), t.type().name(), t.shape(), t.bytes()));
                params += t.elements();
                bytes += t.bytes();
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("ggufVersion", g.version());
            details.put("alignment", g.alignment());
            details.put("metadataKeys", g.metadata().size());
            putIfString(details, "name", g.get("general.name"));
            GgufValue fileType = g.get("general.file_type");
            if (fileType != null && fileType.value() instanceof Number n) details.put("fileType", n.longValue());
            return new ModelSummary(path, "gguf", g.architecture(), params, bytes, g.fileSize(), List.of(path), details, tensors);
        }
    }

    private static void putIfString(Map<String, Object> details, String key, GgufValue v) {
        if (v != null && v.value() instanceof String s) details.put(key, s);
    }

    private static ModelSummary safetensorsFile(Path path) {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            ModelCheck.checkForInspect(f);
            Map<String, Object> details = new LinkedHashMap<>();
            if (!f.metadata().isEmpty()) details.put("metadata", f.metadata());
            Path config = path.resolveSibling("config.json");
            String arch = Files.isRegularFile(config) ? configDetails(config, details) : null;
            return summary(path, "safetensors", arch, f, List.of(path), size(path), details);
        }
    }

    private static ModelSummary huggingFaceFolder(Path dir) {
        if (!SafetensorsModel.isModelFolder(dir)) {
            throw new FormatException(dir, "folder holds no " + SafetensorsModel.SINGLE + " or " + SafetensorsModel.INDEX);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        Path config = dir.resolve("config.json");
        String arch = Files.isRegularFile(config) ? configDetails(config, details) : null;
        try (SafetensorsModel m = SafetensorsModel.open(dir)) {
            ModelCheck.checkForInspect(m);
            List<Path> files = new ArrayList<>();
            for (SafetensorsFile s : m.shards()) files.add(s.path());
            details.put("shards", files.size());
            return summary(dir, "safetensors", arch, m, files, folderBytes(dir), details);
        }
    }

    private static ModelSummary summary(Path path, String format, String arch, TensorSource src, List<Path> files, long onDisk,
                                        Map<String, Object> details) {
        List<ModelSummary.TensorEntry> tensors = new ArrayList<>();
        long params = 0, bytes = 0;
        for (String n : src.names()) {
            Tensor t = src.tensor(n);
            tensors.add(new ModelSummary.TensorEntry(n, SafetensorsDType.name(t.type()), t.shape(), t.data().byteSize()));
            params += t.elements();
            bytes += t.data().byteSize();
        }
        return new ModelSummary(path, format, arch, params, bytes, onDisk, files, details, tensors);
    }

    /** model_type and any quantization_config of a config.json; the architecture is reported, not judged. */
    private static String configDetails(Path config, Map<String, Object> details) {
        JsonNode j;
        try {
            j = JsonMapper.builder().build().readTree(config.toFile());
        } catch (JacksonException e) {
            throw new FormatException(config, null, "malformed JSON: " + e.getOriginalMessage(), e);
        }
        if (j == null || !j.isObject()) throw new FormatException(config, "not a JSON object");
        JsonNode q = j.get("quantization_config");
        if (q != null && q.isObject()) {
            Map<String, Object> quant = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : q.properties()) {
                JsonNode v = e.getValue();
                if (v.isNumber()) quant.put(e.getKey(), v.numberValue());
                else if (v.isBoolean()) quant.put(e.getKey(), v.booleanValue());
                else if (v.isString()) quant.put(e.getKey(), v.asString());
            }
            details.put("quantization", quant);
        }
        JsonNode dtype = j.hasNonNull("torch_dtype") ? j.get("torch_dtype") : j.get("dtype");
        if (dtype != null && dtype.isString()) details.put("torchDtype", dtype.asString());
        JsonNode type = j.get("model_type");
        if (type != null && type.isString()) return type.asString();
        JsonNode archs = j.get("architectures");
        return archs != null && archs.isArray() && !archs.isEmpty() && archs.get(0).isString() ? archs.get(0).asString() : null;
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new FormatException(p, null, "cannot read size: " + e.getMessage(), e);
        }
    }

    private static long folderBytes(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(ModelInspector::size).sum();
        } catch (IOException e) {
            throw new FormatException(dir, null, "cannot list: " + e.getMessage(), e);
        }
    }
}

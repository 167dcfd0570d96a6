package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.Tensor;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.quant.GgmlType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A deliberately small safetensors reader for the infer tests only (the real one lives in formats). */
final class MiniSafetensors implements TensorSource {
    private final Path path;
    private final Arena arena = Arena.ofShared();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    MiniSafetensors(Path file) throws IOException {
        this.path = file;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            long n = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            byte[] hdr = all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            JsonNode root = new ObjectMapper().readTree(new String(hdr, StandardCharsets.UTF_8));
            for (var e : root.properties()) {
                if (e.getKey().equals("__metadata__")) continue;
                JsonNode t = e.getValue();
                GgmlType type = switch (t.get("dtype").asString()) {
                    case "F32" -> GgmlType.F32;
                    case "F16" -> GgmlType.F16;
                    case "BF16" -> GgmlType.BF16;
                    default -> throw new IOException("dtype " + t.get("dtype"));
                };
                List<Long> shape = new ArrayList<>();
                t.get("shape").forEach(x -> shape.add(x.asLong()));
                long a = t.get("data_offsets").get(0).asLong(), b = t.get("data_offsets").get(1).asLong();
                tensors.put(e.getKey(), new Tensor(e.getKey(), type, shape.stream().mapToLong(Long::longValue).toArray(), all.asSlice(8 + n + a, b - a)));
            }
        }
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    @Override
    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new FormatException(path, name, "no such tensor");
        return t;
    }

    @Override
    public void close() {
        arena.close();
    }
}

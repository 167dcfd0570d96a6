package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.quant.GgmlType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A golden llama.cpp GGUF file seen through its {@code .inspect.json} (tensor names, types, offsets,
 * sizes, sha256 as listed by the reference run). Test-only stand-in until formats.gguf.GgufFile lands:
 * the data section start is derived from the file size (the file ends with the last tensor padded to 32).
 */
final class GoldenGguf implements AutoCloseable {
    record TensorInfo(String name, String typeName, long[] ne, long offset, long nbytes, String sha256) {
        GgmlType type() {
            return GgmlType.valueOf(typeName);
        }

        long rowLength() {
            return ne[0];
        }

        long rows() {
            long r = 1;
            for (int i = 1; i < ne.length; i++) r *= ne[i];
            return r;
        }
    }

    final Path file;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment mapped;
    private final long dataStart;
    final Map<String, TensorInfo> tensors = new LinkedHashMap<>();

    private GoldenGguf(Path file, Path inspect) throws IOException {
        this.file = file;
        JsonNode root = JsonMapper.builder().build().readTree(inspect);
        long end = 0;
        for (JsonNode t : root.get("tensors")) {
            List<Long> ne = new ArrayList<>();
            for (JsonNode d : t.get("ne")) ne.add(d.asLong());
            TensorInfo info = new TensorInfo(t.get("name").asString(), t.get("type").asString(),
                    ne.stream().mapToLong(Long::longValue).toArray(), t.get("offset").asLong(), t.get("nbytes").asLong(),
                    t.get("sha256").asString());
            tensors.put(info.name(), info);
            end = Math.max(end, info.offset() + (info.nbytes() + 31) / 32 * 32);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
        dataStart = mapped.byteSize() - end;
    }

    static GoldenGguf open(Path gguf) throws IOException {
        String name = gguf.getFileName().toString();
        Path inspect = gguf.resolveSibling(name.substring(0, name.length() - ".gguf".length()) + ".inspect.json");
        return new GoldenGguf(gguf, inspect);
    }

    MemorySegment data(TensorInfo t) {
        return mapped.asSlice(dataStart + t.offset(), t.nbytes());
    }

    MemorySegment data(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException(file + ": no tensor " + name);
        return data(t);
    }

    @Override
    public void close() {
        arena.close();
    }
}

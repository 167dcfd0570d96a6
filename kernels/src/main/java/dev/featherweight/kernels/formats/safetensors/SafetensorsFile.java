package dev.featherweight.kernels.formats.safetensors;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.MappedFile;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.core.GgmlType;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One safetensors file, memory-mapped: an 8-byte little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets}} plus optional {@code __metadata__}), then the tensor
 * bytes. Tensors are slices of the mapping. Every header field is checked against the file before any
 * tensor is handed out, so a damaged file fails here with its name and the problem.
 */
public final class SafetensorsFile implements TensorSource {
    /** Headers larger than this are refused: real ones are kilobytes to a few megabytes. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    /** Duplicate names are refused (the Rust library refuses them too) rather than silently keeping the last. */
    private static final JsonMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(tools.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private final MappedFile file;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(MappedFile file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.file = file;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps the file and checks its header; the tensors stay slices of the mapping until {@link #close()}. */
    public static SafetensorsFile open(Path path) {
        MappedFile mapped = MappedFile.open(path);
        try {
            return parse(mapped);
        } catch (RuntimeException e) {
            mapped.close();
            throw e;
        }
    }

    /**
     * Reads safetensors bytes already in memory; {@code label} names them in messages. The tensors are
     * slices of {@code bytes}. Used by tests and the header fuzzer.
     */
    public static SafetensorsFile read(Path label, MemorySegment bytes) {
        return parse(MappedFile.wrap(label, bytes));
    }

    private static SafetensorsFile parse(MappedFile mapped) {
        Path path = mapped.path();
        MemorySegment seg = mapped.segment();
        long size = seg.byteSize();
        if (size < 8) throw new FormatException(path, "truncated: " + size + " bytes, shorter than the 8-byte header length");
        long headerLen = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen < 2) throw new FormatException(path, "header length " + headerLen + " is not plausible (at least 2 bytes of JSON)");
        if (headerLen > size - 8) {
            throw new FormatException(path, "header length " + Long.toUnsignedString(headerLen) + " runs past the end of the file (" + size + " bytes)");
        }
        if (headerLen > MAX_HEADER_BYTES) {
            throw new FormatException(path, "header length " + headerLen + " is larger than the " + MAX_HEADER_BYTES + " bytes a real header needs");
        }
        byte[] headerBytes = seg.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = JSON.readTree(headerBytes);
        } catch (JacksonException e) {
            // STRICT_DUPLICATE_DETECTION's error is the one a tensor stored twice gives
            FormatException.Kind kind = String.valueOf(e.getOriginalMessage()).startsWith("Duplicate")
                    ? FormatException.Kind.DUPLICATE_TENSOR : FormatException.Kind.MALFORMED;
            throw new FormatException(kind, path, null, "malformed header JSON: " + e.getOriginalMessage(), e);
        }
        if (header == null || !header.isObject()) throw new FormatException(path, "header is not a JSON object");
        long dataStart = 8 + headerLen;
        long dataSize = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw new FormatException(path, "__metadata__ is not an object");
                for (Map.Entry<String, JsonNode> m : v.properties()) {
                    if (!m.getValue().isString()) throw new FormatException(path, "__metadata__ value of '" + m.getKey() + "' is not a string");
                    metadata.put(m.getKey(), m.getValue().asString());
                }
                continue;
            }
            entries.add(parseEntry(path, name, v, dataSize));
        }
        // Offsets must not overlap: sort by start and check each begins after the previous ends.
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < sorted.size(); i++) {
            Entry prev = sorted.get(i - 1), cur = sorted.get(i);
            if (cur.begin < prev.end) {
                throw new FormatException(FormatException.Kind.LAYOUT, path, cur.name, "data_offsets [" + cur.begin + ", " + cur.end
                        + ") overlap tensor '" + prev.name + "' [" + prev.begin + ", " + prev.end + ")");
            }
        }
        // ...nor leave bytes no tensor owns (the Rust library's validate() refuses both): a header length off by
        // a few bytes, or a tensor entry deleted from the header, shows up here instead of shifting every tensor.
        long covered = 0;
        for (Entry en : sorted) {
            if (en.begin != covered) {
                throw new FormatException(FormatException.Kind.LAYOUT, path, en.name, "data_offsets [" + en.begin + ", " + en.end + ") leave bytes ["
                        + covered + ", " + en.begin + ") of the data section to no tensor");
            }
            covered = en.end;
        }
        if (covered != dataSize) {
            throw new FormatException(FormatException.Kind.LAYOUT, path, null, "the tensors cover " + covered + " of the " + dataSize
                    + " bytes after the header: the header length or a tensor entry is wrong");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        // File order = order of the data, which is how writers lay tensors out.
        for (Entry en : sorted) {
            tensors.put(en.name, new Tensor(en.name, en.type, en.shape, seg.asSlice(dataStart + en.begin, en.end - en.begin)));
        }
        return new SafetensorsFile(mapped, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private record Entry(String name, GgmlType type, long[] shape, long begin, long end) {
    }

    private static Entry parseEntry(Path path, String name, JsonNode v, long dataSize) {
        if (!v.isObject()) throw new FormatException(path, name, "header entry is not an object");
        JsonNode dtypeNode = v.get("dtype"), shapeNode = v.get("shape"), offsetsNode = v.get("data_offsets");
        if (dtypeNode == null || !dtypeNode.isString()) throw new FormatException(path, name, "missing dtype");
        GgmlType type = SafetensorsDType.toGgml(dtypeNode.asString());
        if (type == null) throw new FormatException(path, name, "unsupported dtype '" + dtypeNode.asString() + "'");
        if (shapeNode == null || !shapeNode.isArray()) throw new FormatException(path, name, "missing shape");
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (d == null || !d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) throw new FormatException(path, name, "shape " + shapeNode + " has an invalid dimension");
            shape[i] = d.asLong();
            try {
                elements = Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException overflow) {
                throw new FormatException(path, name, "shape " + shapeNode + " overflows");
            }
        }
        if (offsetsNode == null || !offsetsNode.isArray() || offsetsNode.size() != 2
                || !offsetsNode.get(0).isIntegralNumber() || !offsetsNode.get(1).isIntegralNumber()
                || !offsetsNode.get(0).canConvertToLong() || !offsetsNode.get(1).canConvertToLong()) {
            throw new FormatException(path, name, "data_offsets must be [begin, end]");
        }
        long begin = offsetsNode.get(0).asLong(), end = offsetsNode.get(1).asLong();
        if (begin < 0 || end < begin || end > dataSize) {
            throw new FormatException(path, name, "data_offsets [" + begin + ", " + end + ") out of range (data section is " + dataSize + " bytes)");
        }
        long expected;
        try {
            expected = Math.multiplyExact(elements, (long) type.typeSize);
        } catch (ArithmeticException overflow) {
            throw new FormatException(path, name, "shape " + shapeNode + " overflows");
        }
        if (end - begin != expected) {
            throw new FormatException(path, name, "holds " + (end - begin) + " bytes but dtype " + dtypeNode.asString()
                    + " x shape " + shapeNode + " needs " + expected);
        }
        return new Entry(name, type, shape, begin, end);
    }

    /** The {@code __metadata__} string map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Path path() {
        return file.path();
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
        if (t == null) throw new FormatException(file.path(), name, "no such tensor");
        return t;
    }

    @Override
    public void close() {
        file.close();
    }
}

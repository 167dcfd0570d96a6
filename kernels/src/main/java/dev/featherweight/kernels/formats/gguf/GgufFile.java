package dev.featherweight.kernels.formats.gguf;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.MappedFile;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.core.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (v2 or v3, little-endian), memory-mapped: header, typed metadata in file order, tensor
 * infos, and tensor data as slices of the mapping. Layout: ggml/src/gguf.cpp {@code gguf_init_from_file_impl}.
 * Every count and length is checked against the bytes that remain, so a damaged or hostile file fails
 * with a {@link FormatException} naming it, never with an OutOfMemoryError or an index exception.
 */
public final class GgufFile implements TensorSource {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_NAME: longer tensor names are refused by llama.cpp. */
    public static final int MAX_NAME = 64;
    /** Longest metadata array accepted: 64× the largest vocabulary (token lists are the longest arrays real files hold). */
    public static final long MAX_ARRAY = 1L << 24;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MappedFile file;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensorInfo> infos;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(MappedFile file, int version, Map<String, GgufValue> metadata, Map<String, GgufTensorInfo> infos,
                     int alignment, long dataOffset) {
        this.file = file;
        this.version = version;
        this.metadata = metadata;
        this.infos = infos;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    public static GgufFile open(Path path) {
        MappedFile mapped = MappedFile.open(path);
        try {
            return parse(mapped);
        } catch (RuntimeException e) {
            mapped.close();
            throw e;
        }
    }

    /**
     * Reads GGUF bytes already in memory; {@code label} names them in messages. Tensor data are slices
     * of {@code bytes}. Used by tests and the header fuzzer.
     */
    public static GgufFile read(Path label, MemorySegment bytes) {
        return parse(MappedFile.wrap(label, bytes));
    }

    /** A bounds-checked little-endian cursor over the mapping. */
    private static final class Reader {
        final Path path;
        final MemorySegment seg;
        long pos;

        Reader(Path path, MemorySegment seg) {
            this.path = path;
            this.seg = seg;
        }

        long remaining() {
            return seg.byteSize() - pos;
        }

        void need(long n, String what) {
            if (n < 0 || n > remaining()) {
                throw new FormatException(path, "truncated: " + what + " needs " + n + " bytes at offset " + pos + " but the file is " + seg.byteSize() + " bytes");
            }
        }

        int u8(String what) {
            need(1, what);
            return seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
        }

        int i16(String what) {
            need(2, what);
            short v = seg.get(I16, pos);
            pos += 2;
            return v;
        }

        int i32(String what) {
            need(4, what);
            int v = seg.get(I32, pos);
            pos += 4;
            return v;
        }

        long i64(String what) {
            need(8, what);
            long v = seg.get(I64, pos);
            pos += 8;
            return v;
        }

        float f32(String what) {
            need(4, what);
            float v = seg.get(F32, pos);
            pos += 4;
            return v;
        }

        double f64(String what) {
            need(8, what);
            double v = seg.get(F64, pos);
            pos += 8;
            return v;
        }

        String string(String what) {
            long len = i64(what + " length");
            if (len < 0 || len > remaining()) {
                throw new FormatException(path, "string length " + Long.toUnsignedString(len) + " of " + what + " at offset " + (pos - 8) + " runs past the end of the file");
            }
            if (len > Integer.MAX_VALUE - 16) throw new FormatException(path, what + " is longer than 2 GiB");
            byte[] b = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
            pos += len;
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    private static GgufFile parse(MappedFile mapped) {
        Path path = mapped.path();
        Reader r = new Reader(path, mapped.segment());
        if (r.remaining() < 4 || r.i32("magic") != MAGIC) throw new FormatException(path, "not a GGUF file (bad magic)");
        int version = r.i32("version");
        if (version != 2 && version != 3) {
            throw new FormatException(path, "unsupported GGUF version " + version + " (supported: 2, 3)");
        }
        long nTensors = r.i64("tensor count");
        long nKv = r.i64("metadata count");
        // Smallest possible records: a KV is 8 (key len) + 4 (type) + 1 bytes; a tensor info 8 + 4 + 4 + 8.
        if (nKv < 0 || nKv > r.remaining() / 13) throw new FormatException(path, "metadata count " + Long.toUnsignedString(nKv) + " is impossible for a file of " + r.seg.byteSize() + " bytes");
        if (nTensors < 0 || nTensors > r.remaining() / 24) throw new FormatException(path, "tensor count " + Long.toUnsignedString(nTensors) + " is impossible for a file of " + r.seg.byteSize() + " bytes");

        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = r.string("metadata key #" + i);
            int typeId = r.i32("type of " + key);
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) throw new FormatException(path, "metadata '" + key + "' has unknown value type " + typeId);
            GgufValue value = readValue(r, key, type);
            if (metadata.put(key, value) != null) throw new FormatException(path, "duplicate metadata key '" + key + "'");
        }

        int alignment = DEFAULT_ALIGNMENT;
        GgufValue al = metadata.get("general.alignment");
        if (al != null) {
            if (al.type() != GgufValueType.UINT32) throw new FormatException(path, "general.alignment must be UINT32, is " + al.type());
            long a = al.asLong();
            if (a <= 0 || Long.bitCount(a) != 1 || a > (1 << 30)) throw new FormatException(path, "general.alignment " + a + " is not a power of two");
            alignment = (int) a;
        }

        List<GgufTensorInfo> list = new ArrayList<>();
        Map<String, GgufTensorInfo> infos = new LinkedHashMap<>();
        for (long i = 0; i < nTensors; i++) {
            String name = r.string("tensor name #" + i);
            if (name.getBytes(StandardCharsets.UTF_8).length >= MAX_NAME) {
                throw new FormatException(path, name, "name is " + name.length() + " bytes, llama.cpp allows at most " + (MAX_NAME - 1));
            }
            int nDims = r.i32("dimension count of " + name);
            if (nDims < 1 || nDims > 4) throw new FormatException(path, name, "has " + nDims + " dimensions (1..4 allowed)");
            long[] ne = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                ne[d] = r.i64("ne[" + d + "] of " + name);
                if (ne[d] < 0) throw new FormatException(path, name, "dimension ne[" + d + "] = " + Long.toUnsignedString(ne[d]) + " is negative");
            }
            int typeId = r.i32("type of " + name);
            GgmlType type = GgmlType.byId(typeId);
            if (type == null || type == GgmlType.U8) throw new FormatException(path, name, "unknown ggml type id " + typeId);
            long offset = r.i64("offset of " + name);
            if (ne[0] % type.blockSize != 0) {
                throw new FormatException(path, name, "row length " + ne[0] + " is not a multiple of the " + type + " block size " + type.blockSize);
            }
            long elements = 1;
            try {
                for (long d : ne) elements = Math.multiplyExact(elements, d);
                Math.multiplyExact(elements / type.blockSize, (long) type.typeSize);
            } catch (ArithmeticException e) {
                throw new FormatException(path, name, "dimensions overflow");
            }
            GgufTensorInfo info = new GgufTensorInfo(name, type, ne, offset);
            if (infos.put(name, info) != null) throw new FormatException(path, name, "duplicate tensor name");
            list.add(info);
        }

        long dataOffset = (r.pos + alignment - 1) / alignment * alignment;
        long dataSize = r.seg.byteSize() - dataOffset;
        for (GgufTensorInfo t : list) {
            if (t.offset() < 0 || t.offset() % alignment != 0) {
                throw new FormatException(path, t.name(), "offset " + t.offset() + " is not a multiple of the alignment " + alignment);
            }
            if (t.offset() > dataSize || t.bytes() > dataSize - t.offset()) {
                throw new FormatException(path, t.name(), "data [" + t.offset() + ", " + (t.offset() + t.bytes()) + ") runs past the end of the data section (" + Math.max(0, dataSize) + " bytes)");
            }
        }
        // Overlap check: sort by offset.
        List<GgufTensorInfo> sorted = new ArrayList<>(list);
        sorted.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        for (int i = 1; i < sorted.size(); i++) {
            GgufTensorInfo prev = sorted.get(i - 1), cur = sorted.get(i);
            if (cur.offset() < prev.offset() + prev.bytes()) {
                throw new FormatException(FormatException.Kind.LAYOUT, path, cur.name(), "data at offset " + cur.offset() + " overlaps tensor '" + prev.name() + "'");
            }
        }
        return new GgufFile(mapped, version, Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(infos), alignment, dataOffset);
    }

    private static GgufValue readValue(Reader r, String key, GgufValueType type) {
        if (type == GgufValueType.ARRAY) {
            int elemId = r.i32("array type of " + key);
            GgufValueType elem = GgufValueType.byId(elemId);
            if (elem == null) throw new FormatException(r.path, "metadata '" + key + "' is an array of unknown type " + elemId);
            if (elem == GgufValueType.ARRAY) throw new FormatException(r.path, "metadata '" + key + "' is an array of arrays (not supported by GGUF)");
            long n = r.i64("array length of " + key);
            long minSize = elem == GgufValueType.STRING ? 8 : elem.size;
            if (n < 0 || n > r.remaining() / minSize) {
                throw new FormatException(r.path, "metadata '" + key + "' claims " + Long.toUnsignedString(n) + " elements, more than the file can hold");
            }
            // Each element becomes a boxed value (~24 bytes with its list slot): a count the file can hold may still be more
            // than the heap can, so it is refused as a limit, not met as an OutOfMemoryError.
            long heapNeed = n * 24;
            if (n > MAX_ARRAY || heapNeed > Runtime.getRuntime().maxMemory() / 2) {
                throw new FormatException(FormatException.Kind.LIMIT, r.path, null, "metadata '" + key + "' claims " + n
                        + " elements, more than any real model has (" + MAX_ARRAY + ") or this heap can hold (" + (Runtime.getRuntime().maxMemory() >> 20) + " MB)");
            }
            // The count was checked against the bytes left, but reserve little up front: each element is read (and checked) first.
            List<Object> values = new ArrayList<>((int) Math.min(n, 1 << 16));
            for (long i = 0; i < n; i++) values.add(readScalar(r, key, elem));
            return new GgufValue(GgufValueType.ARRAY, Collections.unmodifiableList(values), elem);
        }
        return GgufValue.of(type, readScalar(r, key, type));
    }

    private static Object readScalar(Reader r, String key, GgufValueType type) {
        return switch (type) {
            case UINT8 -> r.u8(key);
            case INT8 -> (int) (byte) r.u8(key);
            case UINT16 -> r.i16(key) & 0xFFFF;
            case INT16 -> r.i16(key);
            case UINT32 -> r.i32(key) & 0xFFFFFFFFL;
            case INT32 -> r.i32(key);
            case FLOAT32 -> r.f32(key);
            case BOOL -> {
                int b = r.u8(key);
                if (b > 1) throw new FormatException(r.path, "metadata '" + key + "' has bool value " + b);
                yield b == 1;
            }
            case STRING -> r.string(key);
            case UINT64, INT64 -> r.i64(key);
            case FLOAT64 -> r.f64(key);
            case ARRAY -> throw new IllegalStateException("nested array");
        };
    }

    public int version() {
        return version;
    }

    /** Metadata in file order, with exact types. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    /** A metadata value, or null when absent. */
    public GgufValue get(String key) {
        return metadata.get(key);
    }

    /** Tensor infos in file order. */
    public List<GgufTensorInfo> tensorInfos() {
        return List.copyOf(infos.values());
    }

    public GgufTensorInfo tensorInfo(String name) {
        GgufTensorInfo t = infos.get(name);
        if (t == null) throw new FormatException(file.path(), name, "no such tensor");
        return t;
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute file offset of the data section. */
    public long dataOffset() {
        return dataOffset;
    }

    /** The architecture named by general.architecture (null when absent). */
    public String architecture() {
        GgufValue v = metadata.get("general.architecture");
        if (v == null) return null;
        if (!(v.value() instanceof String s)) throw new FormatException(path(), "general.architecture must be a STRING, is " + v.type());
        return s;
    }

    public long fileSize() {
        return file.size();
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public List<String> names() {
        return List.copyOf(infos.keySet());
    }

    @Override
    public boolean has(String name) {
        return infos.containsKey(name);
    }

    @Override
    public Tensor tensor(String name) {
        GgufTensorInfo t = tensorInfo(name);
        return new Tensor(name, t.type(), t.shape(), file.segment().asSlice(dataOffset + t.offset(), t.bytes()));
    }

    @Override
    public void close() {
        file.close();
    }
}

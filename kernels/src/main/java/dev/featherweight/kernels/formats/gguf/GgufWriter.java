package dev.featherweight.kernels.formats.gguf;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.OutputLock;
import dev.featherweight.kernels.quant.gguf.InvalidBlockDataException;
import dev.featherweight.kernels.core.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file as llama.cpp lays it out (ggml/src/gguf.cpp {@code gguf_write_to_buf}): header,
 * metadata in the given order with their exact types, tensor infos with cumulative offsets, zero padding
 * to the alignment after the infos and after every tensor (the last one included).
 *
 * <p>Tensor data is streamed: the output file is sized up front and each tensor's region is mapped and
 * handed to its {@link Filler}, so memory stays at about one tensor whatever the model size. The file is
 * written under a temporary name and renamed only when complete; on any failure it is deleted.
 */
public final class GgufWriter {
    /** Produces one tensor's bytes into {@code dst}, which is exactly the tensor's size. */
    @FunctionalInterface
    public interface Filler {
        void fill(MemorySegment dst) throws IOException;
    }

    /** A tensor to write: name, type, dimensions in ggml order (ne[0] = row length), data producer. */
    public record Entry(String name, GgmlType type, long[] ne, Filler filler) {
        public long bytes() {
            long n = 1;
            for (long d : ne) n *= d;
            return type.rowBytes(ne[0]) * (n / ne[0]);
        }
    }

    private GgufWriter() {
    }

    public static long pad(long n, int alignment) {
        return (n + alignment - 1) / alignment * alignment;
    }

    /** The size {@link #write} gives these tensors with this metadata (header, infos and every tensor padded to the alignment). */
    public static long fileSize(Map<String, GgufValue> metadata, List<Entry> tensors) {
        int alignment = alignment(metadata);
        long size = pad(header(metadata, tensors, alignment).length, alignment);
        for (Entry e : tensors) size += pad(e.bytes(), alignment);
        return size;
    }

    /** general.alignment, or GGUF's default 32. */
    public static int alignment(Map<String, GgufValue> metadata) {
        GgufValue al = metadata.get("general.alignment");
        return al != null ? al.asInt() : GgufFile.DEFAULT_ALIGNMENT;
    }

    /** Writes the file and returns its size in bytes. */
    public static long write(Path out, Map<String, GgufValue> metadata, List<Entry> tensors) {
        int alignment = alignment(metadata);
        byte[] header = header(metadata, tensors, alignment);
        long dataStart = pad(header.length, alignment);
        long size = dataStart;
        long[] offsets = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            offsets[i] = size - dataStart;
            size += pad(tensors.get(i).bytes(), alignment);
        }
        // one writer per path: a second run fails fast (OUTPUT_BUSY) instead of sharing the temporary file
        OutputLock lock = OutputLock.acquire(out);
        Path tmp = lock.temp();
        try (lock) {
            try {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    ByteBuffer hb = ByteBuffer.wrap(header);
                    while (hb.hasRemaining()) ch.write(hb);
                    // Zero padding and the tensors' padding come from the file being extended: new bytes read as 0.
                    if (size > header.length) {
                        ch.write(ByteBuffer.wrap(new byte[1]), size - 1);
                    }
                    for (int i = 0; i < tensors.size(); i++) {
                        Entry e = tensors.get(i);
                        if (e.bytes() == 0) continue;
                        try (Arena arena = Arena.ofShared()) {
                            MemorySegment region = ch.map(FileChannel.MapMode.READ_WRITE, dataStart + offsets[i], e.bytes(), arena);
                            // no msync per tensor: the ch.force below flushes the pages written through every mapping at once
                            e.filler.fill(region);
                        } catch (RuntimeException ex) {
                            if (ex instanceof FormatException fe) throw fe;
                            FormatException.Kind kind = ex instanceof InvalidBlockDataException ? FormatException.Kind.NON_FINITE : FormatException.Kind.MALFORMED;
                            throw new FormatException(kind, out, e.name, ex.getMessage(), ex);
                        }
                    }
                    ch.force(true);
                }
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return size;
            } finally {
                // deleted while the lock is held: after it, the name may belong to the next run
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new FormatException(FormatException.Kind.IO, out, null, "cannot write: " + e.getMessage(), e);
        }
    }

    private static byte[] header(Map<String, GgufValue> metadata, List<Entry> tensors, int alignment) {
        Buf b = new Buf();
        b.i32(GgufFile.MAGIC).i32(3).i64(tensors.size()).i64(metadata.size());
        for (Map.Entry<String, GgufValue> kv : metadata.entrySet()) {
            b.string(kv.getKey());
            GgufValue v = kv.getValue();
            b.i32(v.type().id);
            if (v.type() == GgufValueType.ARRAY) {
                b.i32(v.elementType().id).i64(v.asList().size());
                for (Object o : v.asList()) scalar(b, v.elementType(), o);
            } else {
                scalar(b, v.type(), v.value());
            }
        }
        long offset = 0;
        for (Entry e : tensors) {
            b.string(e.name).i32(e.ne.length);
            for (long d : e.ne) b.i64(d);
            b.i32(e.type.id).i64(offset);
            offset += pad(e.bytes(), alignment);
        }
        return b.toArray();
    }

    private static void scalar(Buf b, GgufValueType t, Object v) {
        switch (t) {
            case UINT8, INT8, BOOL -> b.u8(v instanceof Boolean bo ? (bo ? 1 : 0) : ((Number) v).intValue());
            case UINT16, INT16 -> b.i16(((Number) v).intValue());
            case UINT32, INT32 -> b.i32((int) ((Number) v).longValue());
            case FLOAT32 -> b.i32(Float.floatToRawIntBits(((Number) v).floatValue()));
            case UINT64, INT64 -> b.i64(((Number) v).longValue());
            case FLOAT64 -> b.i64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
            case STRING -> b.string((String) v);
            case ARRAY -> throw new IllegalArgumentException("nested arrays are not GGUF");
        }
    }

    /** A little-endian growable byte buffer for the header. */
    private static final class Buf {
        ByteBuffer bb = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(int n) {
            if (bb.remaining() < n) {
                ByteBuffer nb = ByteBuffer.allocate(Math.max(bb.capacity() * 2, bb.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                bb.flip();
                nb.put(bb);
                bb = nb;
            }
        }

        Buf u8(int v) {
            ensure(1);
            bb.put((byte) v);
            return this;
        }

        Buf i16(int v) {
            ensure(2);
            bb.putShort((short) v);
            return this;
        }

        Buf i32(int v) {
            ensure(4);
            bb.putInt(v);
            return this;
        }

        Buf i64(long v) {
            ensure(8);
            bb.putLong(v);
            return this;
        }

        Buf string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            i64(bytes.length);
            ensure(bytes.length);
            bb.put(bytes);
            return this;
        }

        byte[] toArray() {
            byte[] a = new byte[bb.position()];
            bb.flip();
            bb.get(a);
            return a;
        }
    }
}

package dev.featherweight.kernels.formats.safetensors;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.core.GgmlType;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors streaming, one tensor at a time: the caller declares every tensor (name, dtype,
 * shape) up front — the header needs all offsets — then hands over each tensor's bytes in that order.
 * With a shard size, tensors go to {@code <base>-0000i-of-0000n.safetensors} plus
 * {@code <base>.safetensors.index.json}, as transformers' {@code save_pretrained} names them.
 * Every file is written under a temporary name and renamed only by {@link #finish()}; closing an
 * unfinished writer deletes the temporaries, so a failed job never leaves a half-written model.
 */
public final class SafetensorsWriter implements AutoCloseable {
    /** One declared tensor. */
    public record Spec(String name, GgmlType type, long[] shape) {
        public Spec {
            SafetensorsDType.name(type); // fails early for types safetensors cannot hold
            shape = shape.clone();
        }

        public long bytes() {
            long n = type.typeSize;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** ByteBuffers address at most 2 GiB; tensors are written through slices of this size. */
    private static final long WRITE_SLICE = 1L << 26;

    private final Path dir;
    private final List<Shard> shards = new ArrayList<>();
    private final Map<String, Shard> shardOf = new LinkedHashMap<>();
    private final List<Spec> order;
    private final String indexName;
    private int next;
    private boolean finished;

    private static final class Shard {
        final String fileName;
        final Path temp;
        final List<Spec> specs = new ArrayList<>();
        FileChannel channel;

        Shard(String fileName, Path temp) {
            this.fileName = fileName;
            this.temp = temp;
        }
    }

    /**
     * @param dir           output folder (created if needed)
     * @param baseName      "model" gives model.safetensors (or model-00001-of-00002.safetensors …)
     * @param specs         every tensor, in the order its bytes will be written
     * @param metadata      the {@code __metadata__} map (e.g. {"format": "pt"}), may be empty
     * @param maxShardBytes 0 for one file; otherwise a new shard starts before a tensor that would exceed it
     */
    public static SafetensorsWriter create(Path dir, String baseName, List<Spec> specs, Map<String, String> metadata, long maxShardBytes) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new FormatException(dir, null, "cannot create folder: " + e.getMessage(), e);
        }
        return new SafetensorsWriter(dir, baseName, specs, metadata, maxShardBytes);
    }

    private SafetensorsWriter(Path dir, String baseName, List<Spec> specs, Map<String, String> metadata, long maxShardBytes) {
        this.dir = dir;
        this.order = List.copyOf(specs);
        List<List<Spec>> groups = new ArrayList<>();
        List<Spec> cur = new ArrayList<>();
        long curBytes = 0;
        for (Spec s : specs) {
            if (maxShardBytes > 0 && !cur.isEmpty() && curBytes + s.bytes() > maxShardBytes) {
                groups.add(cur);
                cur = new ArrayList<>();
                curBytes = 0;
            }
            cur.add(s);
            curBytes += s.bytes();
        }
        groups.add(cur);
        boolean sharded = groups.size() > 1;
        this.indexName = sharded ? baseName + ".safetensors.index.json" : null;
        try {
            for (int i = 0; i < groups.size(); i++) {
                String name = sharded ? String.format("%s-%05d-of-%05d.safetensors", baseName, i + 1, groups.size()) : baseName + ".safetensors";
                Shard shard = new Shard(name, dir.resolve("." + name + ".tmp"));
                shard.specs.addAll(groups.get(i));
                shards.add(shard);
                for (Spec s : shard.specs) {
                    if (shardOf.put(s.name, shard) != null) throw new IllegalArgumentException("tensor " + s.name + " declared twice");
                }
                shard.channel = FileChannel.open(shard.temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
                writeFully(shard, ByteBuffer.wrap(header(shard.specs, metadata)));
            }
        } catch (IOException e) {
            close();
            throw new FormatException(dir, null, "cannot write: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The 8-byte length plus the JSON header, padded with spaces to a multiple of 8 as the Rust library does. */
    private static byte[] header(List<Spec> specs, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Spec s : specs) {
            ObjectNode t = root.putObject(s.name);
            t.put("dtype", SafetensorsDType.name(s.type));
            ArrayNode shape = t.putArray("shape");
            for (long d : s.shape) shape.add(d);
            ArrayNode off = t.putArray("data_offsets");
            off.add(offset);
            off.add(offset + s.bytes());
            offset += s.bytes();
        }
        byte[] json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer buf = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(padded).put(json);
        while (buf.hasRemaining()) buf.put((byte) ' ');
        return buf.array();
    }

    /** Writes the next tensor's bytes (any size: a mapped tensor over 2 GiB is written in slices); tensors must come in declaration order. */
    public void write(String name, MemorySegment data) {
        Spec expected = expectNext(name, data.byteSize());
        Shard shard = shardOf.get(expected.name);
        try {
            for (long pos = 0; pos < data.byteSize(); pos += WRITE_SLICE) {
                writeFully(shard, data.asSlice(pos, Math.min(WRITE_SLICE, data.byteSize() - pos)).asByteBuffer());
            }
        } catch (IOException e) {
            throw new FormatException(dir, name, "write failed: " + e.getMessage(), e);
        }
        next++;
    }

    public void write(String name, byte[] data) {
        write(name, ByteBuffer.wrap(data));
    }

    public void write(String name, ByteBuffer data) {
        write(name, MemorySegment.ofBuffer(data));
    }

    private Spec expectNext(String name, long bytes) {
        if (finished) throw new IllegalStateException("writer already finished");
        if (next >= order.size()) throw new IllegalStateException("all declared tensors were already written; got " + name);
        Spec expected = order.get(next);
        if (!expected.name.equals(name)) {
            throw new IllegalStateException("expected tensor " + expected.name + " next, got " + name);
        }
        if (bytes != expected.bytes()) {
            throw new FormatException(dir, name, "got " + bytes + " bytes, declared " + expected.type + " "
                    + Arrays.toString(expected.shape) + " needs " + expected.bytes());
        }
        return expected;
    }

    private static void writeFully(Shard shard, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) shard.channel.write(buf);
    }

    /** Flushes, renames every shard to its final name, and writes the index when sharded. Returns the files written. */
    public List<Path> finish() {
        if (next != order.size()) {
            throw new IllegalStateException("only " + next + " of " + order.size() + " declared tensors were written");
        }
        List<Path> written = new ArrayList<>();
        try {
            for (Shard s : shards) {
                s.channel.force(false);
                s.channel.close();
            }
            if (indexName != null) {
                ObjectNode root = JSON.createObjectNode();
                long total = 0;
                for (Spec s : order) total += s.bytes();
                root.putObject("metadata").put("total_size", total);
                ObjectNode map = root.putObject("weight_map");
                for (Spec s : order) map.put(s.name, shardOf.get(s.name).fileName);
                Path tmp = dir.resolve("." + indexName + ".tmp");
                Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
                for (Shard s : shards) written.add(Files.move(s.temp, dir.resolve(s.fileName), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING));
                // The index goes last: a reader that finds it finds every shard.
                written.add(Files.move(tmp, dir.resolve(indexName), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING));
            } else {
                for (Shard s : shards) written.add(Files.move(s.temp, dir.resolve(s.fileName), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING));
            }
            finished = true;
            return written;
        } catch (IOException e) {
            throw new FormatException(dir, null, "cannot finish: " + e.getMessage(), e);
        }
    }

    /** Deletes the temporaries of an unfinished writer; a no-op after {@link #finish()}. */
    @Override
    public void close() {
        if (finished) return;
        for (Shard s : shards) {
            try {
                if (s.channel != null) s.channel.close();
                Files.deleteIfExists(s.temp);
            } catch (IOException ignored) {
                // best effort: the temp name never shadows a real model file
            }
        }
        try {
            if (indexName != null) Files.deleteIfExists(dir.resolve("." + indexName + ".tmp"));
        } catch (IOException ignored) {
        }
    }
}

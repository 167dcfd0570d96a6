package dev.featherweight.kernels.formats;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A whole file mapped read-only with the FFM API: one {@link MemorySegment} whatever the size (no 2 GiB
 * limit of ByteBuffer), owned by a shared arena so tensors can be read from any thread until closed.
 */
public final class MappedFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment segment;

    private MappedFile(Path path, Arena arena, MemorySegment segment) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
    }

    public static MappedFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.NULL.reinterpret(0) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new MappedFile(path, arena, seg);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new FormatException(path, "file not found");
        } catch (IOException e) {
            arena.close();
            throw new FormatException(path, null, "cannot map: " + e.getMessage(), e);
        }
    }

    /**
     * Wraps bytes already in memory (a heap array or another mapping) under a file name used only in
     * messages; closing it releases nothing. Lets parsers run on in-memory input (tests, fuzzing).
     */
    public static MappedFile wrap(Path label, MemorySegment bytes) {
        return new MappedFile(label, null, bytes);
    }

    public Path path() {
        return path;
    }

    public MemorySegment segment() {
        return segment;
    }

    public long size() {
        return segment.byteSize();
    }

    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) arena.close();
    }
}

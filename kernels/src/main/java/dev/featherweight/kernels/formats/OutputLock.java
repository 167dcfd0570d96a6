package dev.featherweight.kernels.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The right to write one output path: an exclusive lock on {@code .NAME.lock} beside it, held until closed.
 * A second writer of the same path — another process or another thread — fails at once with
 * {@link FormatException.Kind#OUTPUT_BUSY} naming the pid that holds it, rather than waiting (a quantization
 * can take hours; a caller that wants to wait can retry). The lock file itself stays (deleting it would let
 * a third writer lock a new inode while the second still holds the old one); it is empty but for the pid.
 *
 * <p>While it holds the lock a run writes under {@link #temp()} = {@code .NAME.<pid>.tmp} and renames it into
 * place. Acquiring the lock first removes the temporaries of runs that died (their pid no longer lives, or
 * is ours: the lock proves no one else here is writing), so a {@code kill -9} leaves nothing behind for long.
 */
public final class OutputLock implements AutoCloseable {
    /** Lock files held by this JVM. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path out;
    private final FileChannel channel;
    private final FileLock lock;

    private OutputLock(Path out, FileChannel channel, FileLock lock) {
        this.out = out;
        this.channel = channel;
        this.lock = lock;
    }

    /** The lock file of an output path. */
    public static Path lockFile(Path out) {
        return out.resolveSibling("." + out.getFileName() + ".lock");
    }

    /** The temporary name this process writes {@code out} under. */
    public static Path tempFor(Path out) {
        return out.resolveSibling("." + out.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
    }

    /** Locks {@code out} for writing (creating its folder), or fails at once when another run writes it. */
    public static OutputLock acquire(Path out) {
        Path lockFile = lockFile(out);
        // Within one JVM the set decides: on Linux, closing any channel of a file drops every lock this process holds
        // on it (FileLock's javadoc), so a second writer here must not even open the lock file.
        Path key = lockFile.toAbsolutePath().normalize();
        if (!HELD.add(key)) {
            throw new FormatException(FormatException.Kind.OUTPUT_BUSY, out, null, "another run (pid " + ProcessHandle.current().pid()
                    + ") is writing this output (lock " + lockFile.getFileName() + " is held); wait for it to finish or choose another --out");
        }
        FileChannel ch = null;
        try {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException sameJvm) {
                lock = null;
            }
            if (lock == null) {
                String holder = readHolder(ch);
                ch.close();
                HELD.remove(key);
                throw new FormatException(FormatException.Kind.OUTPUT_BUSY, out, null, "another run" + holder + " is writing this output (lock "
                        + lockFile.getFileName() + " is held); wait for it to finish or choose another --out");
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            OutputLock held = new OutputLock(out, ch, lock);
            held.removeStaleTemporaries();
            return held;
        } catch (IOException | RuntimeException e) {
            if (e instanceof FormatException fe) throw fe;
            HELD.remove(key);
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // the first failure is the one to report
                }
            }
            throw new FormatException(FormatException.Kind.IO, out, null, "cannot lock " + lockFile.getFileName() + ": " + e.getMessage(), e);
        }
    }

    private static String readHolder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            ch.read(b, 0);
            String pid = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
            return pid.matches("\\d+") ? " (pid " + pid + ")" : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** Deletes {@code .NAME.<pid>.tmp} files or folders of dead runs and the pid-less {@code .NAME.tmp} of older versions. */
    private void removeStaleTemporaries() throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        Pattern temp = Pattern.compile(Pattern.quote("." + out.getFileName()) + "(?:\\.(\\d+))?\\.tmp");
        long self = ProcessHandle.current().pid();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Matcher m = temp.matcher(p.getFileName().toString());
                if (!m.matches()) continue;
                if (m.group(1) != null) {
                    long pid = Long.parseLong(m.group(1));
                    if (pid != self && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) continue;
                }
                deleteTree(p);
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (var s = Files.list(p)) {
                for (Path c : s.toList()) deleteTree(c);
            }
        }
        Files.deleteIfExists(p);
    }

    /** Where this run writes before renaming into place. */
    public Path temp() {
        return tempFor(out);
    }

    @Override
    public void close() {
        try {
            if (lock.isValid()) lock.release();
            channel.close();
        } catch (IOException e) {
            // closing the channel releases the lock in any case
        } finally {
            HELD.remove(lockFile(out).toAbsolutePath().normalize());
        }
    }
}

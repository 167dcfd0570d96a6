package dev.featherweight.standalone;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What {@code bin/featherweight} checks before it starts anything, so that a second start fails at once
 * with a clear message instead of hanging on PostgreSQL's lock, and a start after a crash cleans up:
 * <ul>
 * <li>one live instance per data dir: an OS file lock on {@code featherweight.lock} (released by the kernel
 *     when the JVM dies, however it dies), holding the owner's pid for the message;</li>
 * <li>holding that lock, any postmaster still running on {@code postgres/} belongs to a dead instance
 *     (a SIGKILLed JVM cannot run its shutdown hook): it is stopped, and the dead instance's temp dir
 *     ({@code tmp/}) removed;</li>
 * <li>the gateway's port must be free before minutes are spent starting the servers.</li>
 * </ul>
 */
final class DataDirGuard implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirGuard(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static final class Refused extends Exception {
        final int exitCode;

        Refused(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    /** Locks the data dir for this JVM, or refuses with the pid of the instance that holds it. */
    static DataDirGuard lock(Path dataDir) throws IOException, Refused {
        Path file = dataDir.resolve("featherweight.lock");
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock == null) {
            String owner = Files.readString(file, StandardCharsets.UTF_8).trim();
            channel.close();
            throw new Refused("another featherweight is already running on data dir " + dataDir + (owner.isEmpty() ? "" : " (pid " + owner + ")")
                    + "; stop it first, or start this one with another --data-dir", 1);
        }
        channel.truncate(0);
        channel.write(java.nio.ByteBuffer.wrap(String.valueOf(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)), 0);
        channel.force(true);
        return new DataDirGuard(channel, lock);
    }

    /** Refuses when the port is taken (by anything) — a clear message now rather than a failed start later. */
    static void requireFreePort(int port) throws Refused {
        if (port == 0) return;
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(port));
        } catch (IOException e) {
            throw new Refused("port " + port + " is already in use (another featherweight or another program); choose one with --port=N", 3);
        }
    }

    /**
     * Stops a postmaster left on this data dir by a dead instance (call while holding the lock). Returns its
     * pid if there was one. SIGTERM first (PostgreSQL's smart shutdown: no clients remain), then SIGKILL.
     */
    static Optional<Long> stopStalePostgres(Path postgresDir) throws IOException, InterruptedException {
        Path pidFile = postgresDir.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) return Optional.empty();
        List<String> lines = Files.readAllLines(pidFile);
        if (lines.isEmpty() || !lines.getFirst().trim().matches("\\d+")) return Optional.empty();
        long pid = Long.parseLong(lines.getFirst().trim());
        Optional<ProcessHandle> process = ProcessHandle.of(pid)
                .filter(p -> p.info().command().map(c -> c.endsWith("postgres") || c.endsWith("postmaster")).orElse(false));
        if (process.isEmpty()) return Optional.empty(); // not running: postgres itself ignores a stale pid file
        ProcessHandle p = process.get();
        p.destroy();
        try {
            p.onExit().get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            p.destroyForcibly();
            p.onExit().join();
        }
        return Optional.of(pid);
    }

    /** Empties (and creates) the data dir's temp dir: what a dead instance left there is garbage now. */
    static Path freshTempDir(Path dataDir) throws IOException {
        Path tmp = dataDir.resolve("tmp");
        if (Files.exists(tmp)) {
            try (var walk = Files.walk(tmp)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) if (!p.equals(tmp)) Files.deleteIfExists(p);
            }
        }
        Files.createDirectories(tmp);
        return tmp;
    }

    @Override
    public void close() throws IOException {
        lock.release();
        channel.close();
    }
}

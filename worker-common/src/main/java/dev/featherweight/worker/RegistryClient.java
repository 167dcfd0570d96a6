package dev.featherweight.worker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.HttpStatusCodeException;
import org.springframework.web.client.RestClient;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry as the workers see it: source models into a local cache (verified by sha256, so a cached
 * file is reused only when it is exactly the registered one), artifacts up with their sha256.
 */
public class RegistryClient {
    private static final Logger log = LoggerFactory.getLogger(RegistryClient.class);
    private final RestClient http;
    private final Path cacheDir;
    private final long cacheMaxBytes;
    private final java.time.Duration storeRetry;

    /** @param storeRetry how long an upload keeps retrying while the registry or its store answers 5xx (an S3 outage) */
    public RegistryClient(RestClient http, Path cacheDir, long cacheMaxBytes, java.time.Duration storeRetry) {
        this.http = http;
        this.cacheDir = cacheDir;
        this.cacheMaxBytes = cacheMaxBytes;
        this.storeRetry = storeRetry;
    }

    public record FileInfo(String path, long size, String sha256) {}

    public record Model(String tenantId, String name, String state, List<FileInfo> files, Map<String, Double> metrics) {}

    public record Artifact(String id, String tenantId, String modelName, String method, int bits, String label, String state,
                           long totalBytes, List<FileInfo> files, Map<String, Double> metrics) {}

    public record NewArtifact(String tenantId, String taskId, String jobId, String modelName, String method, int bits,
                              String label, String recipe, String kernelsVersion) {}

    public Model model(String tenant, String name) throws TaskFailure {
        try {
            return http.get().uri("/internal/tenants/{t}/models/{n}", tenant, name).retrieve().body(Model.class);
        } catch (HttpClientErrorException.NotFound e) {
            throw new TaskFailure("model " + name + " not found in the registry", false);
        }
    }

    /** The model folder in the local cache, downloading files that are missing or differ. */
    public Path fetchModel(String tenant, String name) throws TaskFailure, IOException {
        Model m = model(tenant, name);
        Path dir = cacheDir.resolve("models").resolve(tenant).resolve(name);
        Files.createDirectories(dir);
        for (FileInfo f : m.files()) {
            Path target = dir.resolve(f.path());
            Path marker = dir.resolve(".sha256").resolve(f.path());
            if (Files.exists(target) && Files.exists(marker) && Files.readString(marker).equals(f.sha256())) continue;
            Files.createDirectories(target.getParent());
            Path tmp = target.resolveSibling(target.getFileName() + ".part");
            String sha = http.get().uri(b -> b.path("/internal/tenants/{t}/models/{n}/file").queryParam("path", f.path()).build(tenant, name))
                    .exchange((req, resp) -> {
                        if (resp.getStatusCode().isError()) throw new IOException("registry answered " + resp.getStatusCode() + " for " + f.path());
                        try (InputStream in = resp.getBody()) {
                            return copyHashing(in, tmp);
                        }
                    });
            if (!sha.equals(f.sha256()))
                throw new TaskFailure("downloaded " + f.path() + " of " + name + " has sha256 " + sha + ", registry says " + f.sha256(), true);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.createDirectories(marker.getParent());
            Files.writeString(marker, sha);
            log.info("cached {} of model {} ({} bytes)", f.path(), name, f.size());
        }
        Files.setLastModifiedTime(dir, java.nio.file.attribute.FileTime.from(java.time.Instant.now())); // recency for eviction
        evict(dir);
        return dir;
    }

    /**
     * Keeps the model cache under its byte budget: removes the least recently used model folders (never the
     * one just fetched). A folder removed while another task reads it is re-downloaded next time; on Linux
     * the open mapping stays valid.
     */
    synchronized void evict(Path keep) throws IOException {
        Path models = cacheDir.resolve("models");
        if (!Files.isDirectory(models)) return;
        record Entry(Path dir, long bytes, long used) {}
        List<Entry> entries = new java.util.ArrayList<>();
        try (var tenants = Files.list(models)) {
            for (Path t : tenants.toList()) {
                try (var ms = Files.list(t)) {
                    for (Path m : ms.toList()) {
                        long bytes;
                        try (var walk = Files.walk(m)) {
                            bytes = walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
                        }
                        entries.add(new Entry(m, bytes, Files.getLastModifiedTime(m).toMillis()));
                    }
                }
            }
        }
        long total = entries.stream().mapToLong(Entry::bytes).sum();
        entries.sort(java.util.Comparator.comparingLong(Entry::used));
        for (Entry e : entries) {
            if (total <= cacheMaxBytes) break;
            if (e.dir().equals(keep)) continue;
            try (var walk = Files.walk(e.dir())) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
            total -= e.bytes();
            log.info("evicted {} ({} bytes) from the model cache", e.dir(), e.bytes());
        }
    }

    /** Idempotent per task (the registry keys artifacts by task id). */
    public Artifact createArtifact(NewArtifact a) {
        return http.post().uri("/internal/artifacts").body(a).retrieve().body(Artifact.class);
    }

    public Artifact artifactOfTask(String taskId) {
        try {
            return http.get().uri("/internal/tasks/{t}/artifact", taskId).retrieve().body(Artifact.class);
        } catch (HttpClientErrorException.NotFound e) {
            return null;
        }
    }

    /**
     * Uploads the files (path relative to dir) and completes the artifact. A store outage (5xx) is waited out
     * for up to {@code storeRetry}, with a pause doubling from 1 s to 16 s, so a short S3 outage does not cost
     * an attempt; after that it is a retryable failure of the task.
     */
    public Artifact upload(Artifact artifact, Path dir, List<String> paths) throws TaskFailure, IOException, InterruptedException {
        long deadline = System.nanoTime() + storeRetry.toNanos();
        for (long pauseMillis = 1000; ; pauseMillis = Math.min(16_000, pauseMillis * 2)) {
            try {
                return uploadOnce(artifact, dir, paths);
            } catch (TaskFailure f) {
                if (!f.retryable || System.nanoTime() + pauseMillis * 1_000_000 > deadline) throw f;
                log.warn("upload of {} failed, again in {} s: {}", artifact.id(), pauseMillis / 1000, f.getMessage());
                Thread.sleep(pauseMillis);
            }
        }
    }

    private Artifact uploadOnce(Artifact artifact, Path dir, List<String> paths) throws TaskFailure, IOException {
        Map<String, String> promised = new LinkedHashMap<>();
        try {
            for (String p : paths) {
                Path file = dir.resolve(p);
                String sha = sha256(file);
                promised.put(p, sha);
                http.put().uri(b -> b.path("/internal/artifacts/{id}/files").queryParam("path", p).build(artifact.id()))
                        .header("X-Sha256", sha).contentType(MediaType.APPLICATION_OCTET_STREAM)
                        .body(out -> Files.copy(file, out)).retrieve().toBodilessEntity();
            }
            return http.post().uri("/internal/artifacts/{id}/complete", artifact.id()).body(promised).retrieve().body(Artifact.class);
        } catch (HttpStatusCodeException e) {
            throw new TaskFailure("registry refused the upload of " + artifact.id() + ": " + e.getStatusCode() + " " + e.getResponseBodyAsString(),
                    e.getStatusCode().is5xxServerError());
        }
    }

    public void artifactMetrics(String artifactId, Map<String, Double> metrics) {
        http.post().uri("/internal/artifacts/{id}/metrics", artifactId).body(metrics).retrieve().toBodilessEntity();
    }

    public Artifact artifact(String tenant, String id) throws TaskFailure {
        try {
            return http.get().uri("/internal/tenants/{t}/artifacts/{id}", tenant, id).retrieve().body(Artifact.class);
        } catch (HttpClientErrorException.NotFound e) {
            throw new TaskFailure("artifact " + id + " not found (or not complete)", false);
        }
    }

    /** The artifact's files in the local cache (for evaluation). */
    public Path fetchArtifact(String tenant, String id) throws TaskFailure, IOException {
        Artifact a = artifact(tenant, id);
        Path dir = cacheDir.resolve("artifacts").resolve(id);
        for (FileInfo f : a.files()) {
            Path target = dir.resolve(f.path());
            if (Files.exists(target) && Files.size(target) == f.size() && sha256(target).equals(f.sha256())) continue;
            Files.createDirectories(target.getParent());
            Path tmp = target.resolveSibling(target.getFileName() + ".part");
            String sha = http.get().uri(b -> b.path("/internal/tenants/{t}/artifacts/{id}/file").queryParam("path", f.path()).build(tenant, id))
                    .exchange((req, resp) -> {
                        try (InputStream in = resp.getBody()) {
                            return copyHashing(in, tmp);
                        }
                    });
            if (!sha.equals(f.sha256())) throw new TaskFailure("downloaded " + f.path() + " of " + id + " has the wrong sha256", true);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return dir;
    }

    public void modelMetric(String tenant, String model, String name, double value) {
        http.put().uri("/internal/tenants/{t}/models/{n}/metrics/{m}", tenant, model, name).contentType(MediaType.APPLICATION_JSON)
                .body(value).retrieve().toBodilessEntity();
    }

    static String copyHashing(InputStream in, Path target) throws IOException {
        MessageDigest md = sha();
        try (DigestInputStream din = new DigestInputStream(in, md)) {
            Files.copy(din, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest md = sha();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

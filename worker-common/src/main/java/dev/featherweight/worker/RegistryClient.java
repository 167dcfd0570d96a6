package dev.featherweight.worker;

import dev.featherweight.contracts.Sha256;
import dev.featherweight.contracts.registry.Artifact;
import dev.featherweight.contracts.registry.FileInfo;
import dev.featherweight.contracts.registry.Model;
import dev.featherweight.contracts.registry.NewArtifact;
import dev.featherweight.service.RegistryApi;
import dev.featherweight.service.RegistryFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.HttpStatusCodeException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry as the workers see it: source models into a local cache (verified by sha256, so a cached
 * file is reused only when it is exactly the registered one), artifacts up with their sha256. The calls
 * themselves are {@link RegistryApi} (typed, retried) and {@link RegistryFiles} (streamed); this class adds
 * the cache and turns the registry's answers into task failures.
 */
public class RegistryClient {
    private static final Logger log = LoggerFactory.getLogger(RegistryClient.class);
    private final RegistryApi api;
    private final RegistryFiles files;
    private final Path cacheDir;
    private final long cacheMaxBytes;
    private final java.time.Duration storeRetry;

    /** @param storeRetry how long an upload keeps retrying while the registry or its store answers 5xx (an S3 outage) */
    public RegistryClient(RegistryApi api, RegistryFiles files, Path cacheDir, long cacheMaxBytes, java.time.Duration storeRetry) {
        this.api = api;
        this.files = files;
        this.cacheDir = cacheDir;
        this.cacheMaxBytes = cacheMaxBytes;
        this.storeRetry = storeRetry;
    }

    public Model model(String tenant, String name) throws TaskFailure {
        try {
            return api.model(tenant, name);
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
            String sha = files.modelFile(tenant, name, f.path(), in -> Sha256.copy(in, tmp).sha256());
            if (!sha.equals(f.sha256()))
                throw new TaskFailure("downloaded " + f.path() + " of " + name + " has sha256 " + sha + ", registry says " + f.sha256(), true);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.createDirectories(marker.getParent());
            Files.writeString(marker, sha);
            log.info("cached {} of model {} ({} bytes)", f.path(), name, f.size());
        }
        Files.setLastModifiedTime(dir, FileTime.from(Instant.now())); // recency for eviction
        evict(dir);
        return dir;
    }

    /**
     * An internal blob of the model (derived data shared by every worker, e.g. the base logits for KL divergence) in
     * the local cache, downloaded when missing or different from the registry's (checked by sha256); null when the
     * registry holds none of that name, e.g. because the model was deleted and uploaded again since.
     */
    public Path fetchModelBlob(String tenant, String model, String blob) throws TaskFailure, IOException {
        FileInfo info;
        try {
            info = api.modelBlob(tenant, model, blob);
        } catch (HttpClientErrorException.NotFound e) {
            return null;
        }
        Path target = cacheDir.resolve("model-blobs").resolve(tenant).resolve(model).resolve(blob);
        Path marker = target.resolveSibling(blob + ".sha256");
        if (Files.exists(target) && Files.exists(marker) && Files.readString(marker).equals(info.sha256())) return target;
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(blob + ".part");
        String sha = files.modelBlob(tenant, model, blob, in -> Sha256.copy(in, tmp).sha256());
        if (!sha.equals(info.sha256()))
            throw new TaskFailure("downloaded blob " + blob + " of " + model + " has sha256 " + sha + ", registry says " + info.sha256(), true);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(marker, sha);
        return target;
    }

    /** Stores the file as an internal blob of the model (the registry checks its sha256) and keeps it in the local cache. */
    public Path putModelBlob(String tenant, String model, String blob, Path file) throws TaskFailure, IOException {
        String sha = Sha256.of(file);
        try {
            files.putModelBlob(tenant, model, blob, sha, out -> Files.copy(file, out));
        } catch (HttpStatusCodeException e) {
            throw new TaskFailure("registry refused blob " + blob + " of " + model + ": " + e.getStatusCode() + " " + e.getResponseBodyAsString(),
                    e.getStatusCode().is5xxServerError());
        }
        Path target = cacheDir.resolve("model-blobs").resolve(tenant).resolve(model).resolve(blob);
        Files.createDirectories(target.getParent());
        Files.move(file, target, StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(target.resolveSibling(blob + ".sha256"), sha);
        return target;
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
        List<Entry> entries = new ArrayList<>();
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
        entries.sort(Comparator.comparingLong(Entry::used));
        for (Entry e : entries) {
            if (total <= cacheMaxBytes) break;
            if (e.dir().equals(keep)) continue;
            WorkDirs.deleteTree(e.dir());
            total -= e.bytes();
            log.info("evicted {} ({} bytes) from the model cache", e.dir(), e.bytes());
        }
    }

    /** Idempotent per task (the registry keys artifacts by task id). */
    public Artifact createArtifact(NewArtifact a) {
        return api.createArtifact(a);
    }

    /** Null when no artifact was registered for the task yet. */
    public Artifact artifactOfTask(String taskId) {
        try {
            return api.artifactOfTask(taskId);
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
                String sha = Sha256.of(file);
                promised.put(p, sha);
                files.putArtifactFile(artifact.id(), p, sha, out -> Files.copy(file, out));
            }
            return api.completeArtifact(artifact.id(), promised);
        } catch (HttpStatusCodeException e) {
            throw new TaskFailure("registry refused the upload of " + artifact.id() + ": " + e.getStatusCode() + " " + e.getResponseBodyAsString(),
                    e.getStatusCode().is5xxServerError());
        }
    }

    public void artifactMetrics(String artifactId, Map<String, Double> metrics) {
        api.putArtifactMetrics(artifactId, metrics);
    }

    public Artifact artifact(String tenant, String id) throws TaskFailure {
        try {
            return api.artifact(tenant, id);
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
            if (Files.exists(target) && Files.size(target) == f.size() && Sha256.of(target).equals(f.sha256())) continue;
            Files.createDirectories(target.getParent());
            Path tmp = target.resolveSibling(target.getFileName() + ".part");
            String sha = files.artifactFile(tenant, id, f.path(), in -> Sha256.copy(in, tmp).sha256());
            if (!sha.equals(f.sha256())) throw new TaskFailure("downloaded " + f.path() + " of " + id + " has the wrong sha256", true);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return dir;
    }

    public void modelMetric(String tenant, String model, String name, double value) {
        api.putModelMetric(tenant, model, name, value);
    }
}

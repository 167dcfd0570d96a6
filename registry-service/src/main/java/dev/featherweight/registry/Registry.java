package dev.featherweight.registry;

import dev.featherweight.contracts.Sha256;
import dev.featherweight.contracts.registry.Artifact;
import dev.featherweight.contracts.registry.ArtifactState;
import dev.featherweight.contracts.registry.FileInfo;
import dev.featherweight.contracts.registry.KeyOwner;
import dev.featherweight.contracts.registry.Lineage;
import dev.featherweight.contracts.registry.Model;
import dev.featherweight.contracts.registry.ModelState;
import dev.featherweight.contracts.registry.NewArtifact;
import dev.featherweight.contracts.registry.Tenant;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.util.unit.DataSize;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Metadata (tenants, keys, models, files, artifacts, metrics, lineage) in PostgreSQL and blobs in S3.
 * Order of writes for a file: spool + hash → put blob → insert row, so a row always points at a stored
 * blob; an artifact is listed only once {@link #completeArtifact} has seen every file it was promised.
 */
@Service
public class Registry {
    private final JdbcClient db;
    private final BlobStore blobs;
    private final TaskFence fence;

    private final Limits defaultLimits;

    public Registry(JdbcClient db, BlobStore blobs, TaskFence fence,
                    @Value("${featherweight.limits.jobs-in-flight:1000}") int jobsInFlight,
                    @Value("${featherweight.limits.storage:100GB}") DataSize storage,
                    @Value("${featherweight.limits.upload:20GB}") DataSize upload) {
        this.db = db;
        this.blobs = blobs;
        this.fence = fence;
        this.defaultLimits = new Limits(jobsInFlight, storage.toBytes(), upload.toBytes());
    }

    // ---- tenants and keys ----------------------------------------------------------------------

    @Transactional
    public Tenant createTenant(String name) {
        String id = "t-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            db.sql("insert into tenants(id, name) values (?, ?)").params(id, name).update();
        } catch (DuplicateKeyException e) {
            throw new Conflict("tenant '" + name + "' exists");
        }
        return new Tenant(id, name);
    }

    public Optional<Tenant> tenantByName(String name) {
        return db.sql("select id, name from tenants where name = ?").param(name).query(Tenant.class).optional();
    }

    public List<Tenant> tenants() {
        return db.sql("select id, name from tenants order by name").query(Tenant.class).list();
    }

    /** Stores only the hash; the caller hands the key to the user once. Answers the key's id (for revoking it). */
    @Transactional
    public String addKey(String tenantId, String keyHash, boolean admin) {
        requireTenant(tenantId);
        if (keyHash == null || !keyHash.matches("[0-9a-f]{64}")) throw new BadRequest("keyHash: 64 lowercase hex digits (sha256)");
        String id = "k-" + UUID.randomUUID().toString().substring(0, 13);
        db.sql("insert into api_keys(key_hash, tenant_id, admin, id) values (?, ?, ?, ?) on conflict do nothing").params(keyHash, tenantId, admin, id).update();
        return db.sql("select id from api_keys where key_hash = ? and tenant_id = ?").params(keyHash, tenantId).query(String.class).optional()
                .orElseThrow(() -> new Conflict("key exists"));
    }

    public record KeyInfo(String id, boolean admin, Instant createdAt) {}

    public List<KeyInfo> keys(String tenantId) {
        requireTenant(tenantId);
        return db.sql("select id, admin, created_at from api_keys where tenant_id = ? order by created_at, id").param(tenantId).query(KeyInfo.class).list();
    }

    /** The key stops working at once in the registry; gateways forget cached keys within their cache's time to live. */
    @Transactional
    public void revokeKey(String tenantId, String keyId) {
        if (db.sql("delete from api_keys where tenant_id = ? and id = ?").params(tenantId, keyId).update() == 0)
            throw new NotFound("key " + keyId);
    }

    private void requireTenant(String tenantId) {
        if (db.sql("select count(*) from tenants where id = ?").param(tenantId).query(Long.class).single() == 0)
            throw new NotFound("tenant " + tenantId);
    }

    // ---- limits --------------------------------------------------------------------------------

    /** A tenant's limits: jobs submitted and not finished, bytes stored (models and artifacts), bytes of one upload. */
    public record Limits(Integer jobsInFlight, Long storageBytes, Long uploadBytes) {}

    public record TenantUsage(String id, String name, Limits limits, long storageBytes) {}

    /** The effective limits (the tenant's own, else the platform defaults) and the bytes stored. */
    public TenantUsage usage(String tenantId) {
        Limits own = db.sql("select max_jobs_in_flight, max_storage_bytes, max_upload_bytes from tenants where id = ?").param(tenantId)
                .query((rs, i) -> new Limits((Integer) rs.getObject(1), (Long) rs.getObject(2), (Long) rs.getObject(3)))
                .optional().orElseThrow(() -> new NotFound("tenant " + tenantId));
        Limits effective = new Limits(own.jobsInFlight() != null ? own.jobsInFlight() : defaultLimits.jobsInFlight(),
                own.storageBytes() != null ? own.storageBytes() : defaultLimits.storageBytes(),
                own.uploadBytes() != null ? own.uploadBytes() : defaultLimits.uploadBytes());
        String name = db.sql("select name from tenants where id = ?").param(tenantId).query(String.class).single();
        return new TenantUsage(tenantId, name, effective, storageBytes(tenantId));
    }

    /** Null fields go back to the platform default. */
    @Transactional
    public TenantUsage setLimits(String tenantId, Limits limits) {
        requireTenant(tenantId);
        if ((limits.jobsInFlight() != null && limits.jobsInFlight() < 0) || (limits.storageBytes() != null && limits.storageBytes() < 0)
                || (limits.uploadBytes() != null && limits.uploadBytes() < 0))
            throw new BadRequest("limits must be >= 0 (or null for the platform default)");
        db.sql("update tenants set max_jobs_in_flight = ?, max_storage_bytes = ?, max_upload_bytes = ? where id = ?")
                .params(limits.jobsInFlight(), limits.storageBytes(), limits.uploadBytes(), tenantId).update();
        return usage(tenantId);
    }

    long storageBytes(String tenantId) {
        return db.sql("select coalesce((select sum(size) from model_files where tenant_id = :t), 0)"
                        + " + coalesce((select sum(f.size) from artifact_files f join artifacts a on a.id = f.artifact_id where a.tenant_id = :t), 0)")
                .param("t", tenantId).query(Long.class).single();
    }

    // ---- import sources ------------------------------------------------------------------------

    /** An S3 bucket a tenant may import from, with the credentials to read it (the secret is never listed). */
    public record ImportSource(String bucket, String endpoint, String accessKey, String secretKey) {}

    public record ImportSourceInfo(String bucket, String endpoint, String accessKey) {}

    public void putImportSource(String tenantId, ImportSource s) {
        requireTenant(tenantId);
        db.sql("insert into import_sources(tenant_id, bucket, endpoint, access_key, secret_key) values (?, ?, ?, ?, ?)"
                        + " on conflict (tenant_id, bucket) do update set endpoint = excluded.endpoint, access_key = excluded.access_key, secret_key = excluded.secret_key")
                .params(tenantId, s.bucket(), s.endpoint(), s.accessKey(), s.secretKey()).update();
    }

    public List<ImportSourceInfo> importSources(String tenantId) {
        requireTenant(tenantId);
        return db.sql("select bucket, endpoint, access_key from import_sources where tenant_id = ? order by bucket").param(tenantId)
                .query(ImportSourceInfo.class).list();
    }

    public Optional<ImportSource> importSource(String tenantId, String bucket) {
        return db.sql("select bucket, endpoint, access_key, secret_key from import_sources where tenant_id = ? and bucket = ?")
                .params(tenantId, bucket).query(ImportSource.class).optional();
    }

    public void deleteImportSource(String tenantId, String bucket) {
        if (db.sql("delete from import_sources where tenant_id = ? and bucket = ?").params(tenantId, bucket).update() == 0)
            throw new NotFound("import source " + bucket);
    }

    public Optional<KeyOwner> keyOwner(String keyHash) {
        return db.sql("select tenant_id, admin from api_keys where key_hash = ?").param(keyHash).query(KeyOwner.class).optional();
    }

    // ---- models ----------------------------------------------------------------------------------

    @Transactional
    public void createModel(String tenantId, String name, String source) {
        try {
            db.sql("insert into models(tenant_id, name, source, state) values (?, ?, ?, ?)").params(tenantId, name, source, ModelState.UPLOADING.name()).update();
        } catch (DuplicateKeyException e) {
            throw new Conflict("model '" + name + "' exists");
        }
    }

    /** Models still UPLOADING after {@code olderThan}: their upload failed without cleanup or was abandoned (a gateway died). */
    public List<Model> abandonedUploads(java.time.Duration olderThan) {
        return db.sql("select tenant_id, name from models where state = 'UPLOADING' and created_at < ?")
                .param(Timestamp.from(Instant.now().minus(olderThan)))
                .query((rs, i) -> model(rs.getString(1), rs.getString(2)).orElse(null)).list().stream().filter(java.util.Objects::nonNull).toList();
    }

    public FileInfo putModelFile(String tenantId, String name, String path, InputStream body, String expectedSha256) throws IOException {
        requireModel(tenantId, name);
        String key = "models/" + tenantId + "/" + name + "/" + path;
        FileInfo info = spoolAndStore(key, path, body, expectedSha256, size -> {
            long replaced = db.sql("select coalesce(sum(size), 0) from model_files where tenant_id = ? and model_name = ? and path = ?")
                    .params(tenantId, name, path).query(Long.class).single();
            long limit = usage(tenantId).limits().storageBytes();
            if (storageBytes(tenantId) - replaced + size > limit)
                throw new QuotaExceeded("storing " + path + " (" + size + " bytes) would exceed the tenant's storage limit of " + limit + " bytes");
        });
        db.sql("""
                insert into model_files(tenant_id, model_name, path, size, sha256, object_key) values (?, ?, ?, ?, ?, ?)
                on conflict (tenant_id, model_name, path) do update set size = excluded.size, sha256 = excluded.sha256
                """).params(tenantId, name, path, info.size(), info.sha256(), key).update();
        return info;
    }

    @Transactional
    public Model markModelReady(String tenantId, String name) {
        Model m = model(tenantId, name).orElseThrow(() -> new NotFound("model " + name));
        if (m.files().stream().noneMatch(f -> f.path().equals("config.json")))
            throw new BadRequest("model " + name + " has no config.json: not a Hugging Face model folder");
        db.sql("update models set state = ? where tenant_id = ? and name = ?").params(ModelState.READY.name(), tenantId, name).update();
        return model(tenantId, name).orElseThrow();
    }

    public Optional<Model> model(String tenantId, String name) {
        return db.sql("select tenant_id, name, source, state, created_at from models where tenant_id = ? and name = ?")
                .params(tenantId, name)
                .query((rs, i) -> new Model(rs.getString(1), rs.getString(2), rs.getString(3), ModelState.valueOf(rs.getString(4)),
                        rs.getTimestamp(5).toInstant(), modelFiles(tenantId, name), modelMetrics(tenantId, name)))
                .optional();
    }

    public List<Model> models(String tenantId) {
        return db.sql("select name from models where tenant_id = ? order by name").param(tenantId).query(String.class).list()
                .stream().map(n -> model(tenantId, n).orElseThrow()).toList();
    }

    public InputStream modelFile(String tenantId, String name, String path) {
        String key = db.sql("select object_key from model_files where tenant_id = ? and model_name = ? and path = ?")
                .params(tenantId, name, path).query(String.class).optional()
                .orElseThrow(() -> new NotFound("file " + path + " of model " + name));
        return blobs.get(key);
    }

    public void putModelMetric(String tenantId, String name, String metric, double value) {
        requireModel(tenantId, name);
        db.sql("""
                insert into model_metrics(tenant_id, model_name, name, value) values (?, ?, ?, ?)
                on conflict (tenant_id, model_name, name) do update set value = excluded.value
                """).params(tenantId, name, metric, value).update();
    }

    private List<FileInfo> modelFiles(String tenantId, String name) {
        return db.sql("select path, size, sha256 from model_files where tenant_id = ? and model_name = ? order by path")
                .params(tenantId, name).query(FileInfo.class).list();
    }

    private Map<String, Double> modelMetrics(String tenantId, String name) {
        Map<String, Double> m = new LinkedHashMap<>();
        db.sql("select name, value from model_metrics where tenant_id = ? and model_name = ? order by name").params(tenantId, name)
                .query(rs -> { m.put(rs.getString(1), rs.getDouble(2)); });
        return m;
    }

    private void requireModel(String tenantId, String name) {
        if (db.sql("select count(*) from models where tenant_id = ? and name = ?").params(tenantId, name).query(Long.class).single() == 0)
            throw new NotFound("model " + name);
    }

    // ---- internal blobs of a model ---------------------------------------------------------------

    /** Names of internal blobs: what the platform derives from a model, e.g. {@code kld-base.demo.ctx256.chunks0}. */
    private static final java.util.regex.Pattern BLOB_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    /**
     * Stores an internal blob of the model (replacing one of the same name): data the workers derive from the model
     * and reuse across jobs, such as the base model's logits for KL divergence. Not a model file (never listed,
     * never downloadable through the gateway, outside the tenant's storage quota: the platform made it) and removed
     * with the model.
     */
    public FileInfo putModelBlob(String tenantId, String name, String blob, InputStream body, String expectedSha256) throws IOException {
        requireModel(tenantId, name);
        if (!BLOB_NAME.matcher(blob).matches()) throw new BadRequest("blob name: letters, digits, '.', '_' and '-' (at most 200)");
        String key = "model-blobs/" + tenantId + "/" + name + "/" + blob;
        FileInfo info = spoolAndStore(key, blob, body, expectedSha256, size -> {});
        db.sql("""
                insert into model_blobs(tenant_id, model_name, name, size, sha256, object_key) values (?, ?, ?, ?, ?, ?)
                on conflict (tenant_id, model_name, name) do update set size = excluded.size, sha256 = excluded.sha256, created_at = now()
                """).params(tenantId, name, blob, info.size(), info.sha256(), key).update();
        return info;
    }

    /** The blob's size and sha256 (path = its name), if the tenant's model has it. */
    public Optional<FileInfo> modelBlob(String tenantId, String name, String blob) {
        return db.sql("select name as path, size, sha256 from model_blobs where tenant_id = ? and model_name = ? and name = ?")
                .params(tenantId, name, blob).query(FileInfo.class).optional();
    }

    public InputStream modelBlobContent(String tenantId, String name, String blob) {
        String key = db.sql("select object_key from model_blobs where tenant_id = ? and model_name = ? and name = ?")
                .params(tenantId, name, blob).query(String.class).optional()
                .orElseThrow(() -> new NotFound("blob " + blob + " of model " + name));
        return blobs.get(key);
    }

    // ---- artifacts -----------------------------------------------------------------------------

    /** Idempotent per task: a second call for the same task returns the existing artifact. */
    @Transactional
    public Artifact createArtifact(NewArtifact a) {
        requireModel(a.tenantId(), a.modelName());
        String id = "a-" + UUID.randomUUID().toString().substring(0, 13);
        db.sql("""
                insert into artifacts(id, tenant_id, task_id, job_id, model_name, method, bits, label, recipe, kernels_version, state)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (task_id) do nothing
                """).params(id, a.tenantId(), a.taskId(), a.jobId(), a.modelName(), a.method(), a.bits(), a.label(), a.recipe(), a.kernelsVersion(),
                        ArtifactState.PENDING.name())
                .update();
        String existing = db.sql("select id from artifacts where task_id = ?").param(a.taskId()).query(String.class).single();
        return artifact(existing, true).orElseThrow();
    }

    public FileInfo putArtifactFile(String artifactId, String path, InputStream body, String expectedSha256) throws IOException {
        Artifact a = artifact(artifactId, true).orElseThrow(() -> new NotFound("artifact " + artifactId));
        if (a.state() == ArtifactState.COMPLETE) {
            // a retried upload of a finished artifact: nothing to store, but the content must be the same
            FileInfo have = a.files().stream().filter(f -> f.path().equals(path)).findFirst()
                    .orElseThrow(() -> new Conflict("artifact " + artifactId + " is complete and has no file " + path));
            if (expectedSha256 != null && !expectedSha256.equals(have.sha256()))
                throw new Conflict("artifact " + artifactId + " is complete with a different " + path);
            body.transferTo(OutputStream.nullOutputStream());
            return have;
        }
        String key = "artifacts/" + a.tenantId() + "/" + artifactId + "/" + path;
        FileInfo info = spoolAndStore(key, path, body, expectedSha256, size -> {});
        db.sql("""
                insert into artifact_files(artifact_id, path, size, sha256, object_key) values (?, ?, ?, ?, ?)
                on conflict (artifact_id, path) do update set size = excluded.size, sha256 = excluded.sha256
                """).params(artifactId, path, info.size(), info.sha256(), key).update();
        return info;
    }

    /**
     * Makes the artifact visible, after checking it holds exactly the promised files (path → sha256) and that
     * its task is still open in the job-service: the artifact of a cancelled (or failed) task is deleted,
     * blobs and rows, instead of becoming visible.
     */
    public Artifact completeArtifact(String artifactId, Map<String, String> expectedFiles) {
        Artifact a = artifact(artifactId, true).orElseThrow(() -> new NotFound("artifact " + artifactId));
        Map<String, String> have = new LinkedHashMap<>();
        a.files().forEach(f -> have.put(f.path(), f.sha256()));
        if (!have.equals(expectedFiles))
            throw new Conflict("artifact " + artifactId + " holds " + have + " but " + expectedFiles + " were promised");
        if (a.state() != ArtifactState.COMPLETE) {
            String refusal = fence.refusal(a.lineage().taskId());
            if (refusal != null) {
                deleteArtifact(artifactId);
                throw new Conflict("artifact " + artifactId + " not completed and deleted: " + refusal);
            }
        }
        db.sql("update artifacts set state = ?, completed_at = coalesce(completed_at, now()) where id = ?").params(ArtifactState.COMPLETE.name(), artifactId).update();
        return artifact(artifactId, true).orElseThrow();
    }

    public void putArtifactMetrics(String artifactId, Map<String, Double> metrics) {
        if (artifact(artifactId, true).isEmpty()) throw new NotFound("artifact " + artifactId);
        metrics.forEach((name, value) -> db.sql("""
                insert into artifact_metrics(artifact_id, name, value) values (?, ?, ?)
                on conflict (artifact_id, name) do update set value = excluded.value
                """).params(artifactId, name, value).update());
    }

    public Optional<Artifact> artifact(String id, boolean includePending) {
        return db.sql("""
                select id, tenant_id, model_name, method, bits, label, state, created_at, completed_at, job_id, task_id, recipe, kernels_version
                from artifacts where id = ?""").param(id)
                .query((rs, i) -> {
                    List<FileInfo> files = db.sql("select path, size, sha256 from artifact_files where artifact_id = ? order by path")
                            .param(id).query(FileInfo.class).list();
                    Map<String, Double> metrics = new LinkedHashMap<>();
                    db.sql("select name, value from artifact_metrics where artifact_id = ? order by name").param(id)
                            .query(r -> { metrics.put(r.getString(1), r.getDouble(2)); });
                    Timestamp done = rs.getTimestamp(9);
                    return new Artifact(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getInt(5), rs.getString(6),
                            ArtifactState.valueOf(rs.getString(7)), rs.getTimestamp(8).toInstant(), done == null ? null : done.toInstant(),
                            files.stream().mapToLong(FileInfo::size).sum(), files, metrics,
                            new Lineage(rs.getString(3), rs.getString(10), rs.getString(11), rs.getString(12), rs.getString(13)));
                })
                .optional()
                .filter(a -> includePending || a.state() == ArtifactState.COMPLETE);
    }

    public Optional<Artifact> artifactOfTask(String taskId) {
        return db.sql("select id from artifacts where task_id = ?").param(taskId).query(String.class).optional()
                .flatMap(id -> artifact(id, true));
    }

    /** Complete artifacts of a tenant, filtered by any of model, method, bits and job (null = any). */
    public List<Artifact> artifacts(String tenantId, String model, String method, Integer bits, String jobId) {
        return db.sql("""
                select id from artifacts where tenant_id = :t and state = :complete
                  and (cast(:model as varchar) is null or model_name = :model)
                  and (cast(:method as varchar) is null or method = :method)
                  and (cast(:bits as integer) is null or bits = :bits)
                  and (cast(:job as varchar) is null or job_id = :job)
                order by created_at, id""")
                .param("t", tenantId).param("complete", ArtifactState.COMPLETE.name()).param("model", model).param("method", method).param("bits", bits).param("job", jobId)
                .query(String.class).list().stream().map(id -> artifact(id, false).orElseThrow()).toList();
    }

    public InputStream artifactFile(String artifactId, String path) {
        return blobs.get(artifactFileKey(artifactId, path));
    }

    public String artifactFileUrl(String artifactId, String path) {
        return blobs.presignedGet(artifactFileKey(artifactId, path), java.time.Duration.ofMinutes(15));
    }

    /** Removes the blobs first, then the rows: a failure leaves rows that can be deleted again, never orphans in S3 unreferenced. */
    public void deleteArtifact(String artifactId) {
        Artifact a = artifact(artifactId, true).orElseThrow(() -> new NotFound("artifact " + artifactId));
        for (FileInfo f : a.files()) blobs.delete("artifacts/" + a.tenantId() + "/" + artifactId + "/" + f.path());
        db.sql("delete from artifacts where id = ?").param(artifactId).update();
    }

    private String artifactFileKey(String artifactId, String path) {
        return db.sql("select object_key from artifact_files where artifact_id = ? and path = ?").params(artifactId, path)
                .query(String.class).optional().orElseThrow(() -> new NotFound("file " + path + " of artifact " + artifactId));
    }

    // ---- blobs ---------------------------------------------------------------------------------

    /**
     * Removes a model: its blobs (files and internal blobs) first, then its rows (an upload that failed half way leaves nothing behind;
     * a failure leaves rows that can be deleted again, never unreferenced blobs). Whether jobs still use it is
     * the caller's question (the gateway asks the job-service).
     */
    public void deleteModel(String tenantId, String name) {
        requireModel(tenantId, name);
        for (String key : db.sql("select object_key from model_files where tenant_id = ? and model_name = ?"
                        + " union all select object_key from model_blobs where tenant_id = ? and model_name = ?")
                .params(tenantId, name, tenantId, name).query(String.class).list())
            blobs.delete(key);
        db.sql("delete from models where tenant_id = ? and name = ?").params(tenantId, name).update();
    }

    private FileInfo spoolAndStore(String key, String path, InputStream body, String expectedSha256,
                                   java.util.function.LongConsumer checkBeforeStore) throws IOException {
        Path tmp = Files.createTempFile("fw-upload-", ".part");
        try {
            Sha256.Copied spooled = Sha256.copy(body, tmp);
            if (expectedSha256 != null && !expectedSha256.isBlank() && !expectedSha256.equalsIgnoreCase(spooled.sha256()))
                throw new BadRequest("sha256 of " + path + " is " + spooled.sha256() + ", the uploader declared " + expectedSha256);
            checkBeforeStore.accept(spooled.size());
            blobs.put(key, tmp, spooled.size());
            return new FileInfo(path, spooled.size(), spooled.sha256());
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static class NotFound extends RuntimeException { NotFound(String what) { super(what + " not found"); } }

    public static class Conflict extends RuntimeException { Conflict(String m) { super(m); } }

    /** A service the registry needs is unreachable for now (503: the caller retries). */
    public static class Unavailable extends RuntimeException { Unavailable(String m, Throwable cause) { super(m, cause); } }

    public static class BadRequest extends RuntimeException { BadRequest(String m) { super(m); } }

    public static class QuotaExceeded extends RuntimeException { QuotaExceeded(String m) { super(m); } }
}

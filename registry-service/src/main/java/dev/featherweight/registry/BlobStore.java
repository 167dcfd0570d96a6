package dev.featherweight.registry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.RemoveObjectArgs;
import io.minio.UploadObjectArgs;
import io.minio.Http.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Blobs in one S3 bucket through the MinIO client. Uploads go from a local spooled file so that they can
 * be retried (a request body can be read once) and so that the sha256 is known before anything is stored.
 * Files above the client's part size go up as multipart uploads.
 */
@Component
public class BlobStore {
    private static final Logger log = LoggerFactory.getLogger(BlobStore.class);
    static final long PART_SIZE = 16L << 20;

    private final MinioClient client;
    private final String bucket;
    private final int attempts;
    private final Duration backoff;
    private final Counter bytesStored;
    private volatile boolean bucketChecked;

    public BlobStore(S3Properties s3, MeterRegistry meters) {
        this.client = MinioClient.builder().endpoint(s3.endpoint()).credentials(s3.accessKey(), s3.secretKey()).region("us-east-1").build();
        // an unreachable or hung S3 must fail a put within seconds (then retried), not after OkHttp's minutes
        long ms = s3.timeout().toMillis();
        client.setTimeout(ms, ms, ms);
        this.bucket = s3.bucket();
        this.attempts = s3.attempts();
        this.backoff = s3.backoff();
        this.bytesStored = Counter.builder("featherweight.registry.bytes.stored").baseUnit("bytes").register(meters);
    }

    /** Stores the file under the key, retrying transient failures; throws {@link BlobStoreUnavailable} after the last. */
    public void put(String key, Path file, long size) {
        Exception last = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            try {
                ensureBucket();
                client.uploadObject(UploadObjectArgs.builder().bucket(bucket).object(key).filename(file.toString(), PART_SIZE).build());
                bytesStored.increment(size);
                return;
            } catch (Exception e) {
                last = e;
                log.warn("S3 put {} failed (attempt {}/{}): {}", key, attempt, attempts, e.toString());
                sleep(backoff.multipliedBy(attempt));
            }
        }
        throw new BlobStoreUnavailable("S3 put of " + key + " failed after " + attempts + " attempts: " + last, last);
    }

    public InputStream get(String key) {
        try {
            return client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build());
        } catch (Exception e) {
            throw new BlobStoreUnavailable("S3 get of " + key + " failed: " + e, e);
        }
    }

    public String presignedGet(String key, Duration validity) {
        try {
            return client.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder().method(Method.GET).bucket(bucket)
                    .object(key).expiry((int) validity.toSeconds()).build());
        } catch (Exception e) {
            throw new BlobStoreUnavailable("presigning " + key + " failed: " + e, e);
        }
    }

    public void delete(String key) {
        try {
            client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(key).build());
        } catch (Exception e) {
            throw new BlobStoreUnavailable("S3 delete of " + key + " failed: " + e, e);
        }
    }

    private void ensureBucket() throws Exception {
        if (bucketChecked) return;
        synchronized (this) {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build()))
                client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            bucketChecked = true;
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static class BlobStoreUnavailable extends RuntimeException {
        BlobStoreUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

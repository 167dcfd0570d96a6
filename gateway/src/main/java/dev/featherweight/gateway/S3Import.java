package dev.featherweight.gateway;

import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.Result;
import io.minio.messages.Item;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.RestClient;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.util.Arrays;
import java.util.List;

/**
 * Imports {@code s3://bucket/prefix} from an import source: a bucket that an administrator allowed this tenant
 * to read, on its own endpoint with its own credentials (kept in the registry). The platform's own store
 * (the endpoint and bucket the registry writes every tenant's blobs to) is never one.
 */
@Component
public class S3Import {
    private static final Logger log = LoggerFactory.getLogger(S3Import.class);
    private final RestClient registry;
    private final String platformEndpoint;
    private final String platformBucket;

    public S3Import(RestClient registryClient,
                    @Value("${featherweight.s3.endpoint:http://localhost:9000}") String platformEndpoint,
                    @Value("${featherweight.s3.bucket:featherweight}") String platformBucket) {
        this.registry = registryClient;
        this.platformEndpoint = platformEndpoint;
        this.platformBucket = platformBucket;
    }

    record Source(String bucket, String endpoint, String accessKey, String secretKey) {}

    /** True when endpoint + bucket name the platform's own store (host names compared by address, so an alias does not slip through). */
    boolean isPlatformStore(String endpoint, String bucket) {
        if (!platformBucket.equals(bucket)) return false;
        try {
            URI a = URI.create(endpoint), b = URI.create(platformEndpoint);
            if (port(a) != port(b)) return false;
            if (a.getHost().equalsIgnoreCase(b.getHost())) return true;
            List<InetAddress> left = Arrays.asList(InetAddress.getAllByName(a.getHost()));
            List<InetAddress> right = Arrays.asList(InetAddress.getAllByName(b.getHost()));
            boolean bothLocal = left.stream().anyMatch(x -> x.isLoopbackAddress() || x.isAnyLocalAddress())
                    && right.stream().anyMatch(x -> x.isLoopbackAddress() || x.isAnyLocalAddress());
            return bothLocal || left.stream().anyMatch(right::contains);
        } catch (IOException | RuntimeException e) {
            return true; // cannot tell: refuse rather than risk reading the platform's store
        }
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equals(u.getScheme()) ? 443 : 80;
    }

    /** The tenant's import source for the reference's bucket, or 400 naming what an administrator must configure. */
    Source source(String tenant, String ref) {
        String bucket = bucketOf(ref);
        Source s;
        try {
            s = registry.get().uri("/internal/tenants/{t}/import-sources/{b}", tenant, bucket).retrieve().body(Source.class);
        } catch (HttpClientErrorException.NotFound | HttpClientErrorException.BadRequest e) {
            s = null;
        }
        if (s == null || isPlatformStore(s.endpoint(), s.bucket()))
            throw new ApiException(HttpStatus.BAD_REQUEST, "forbidden-import-source", "s3://" + bucket
                    + " is not an import source of this tenant; an administrator adds one with PUT /api/v1/admin/tenants/{tenantId}/import-sources/{bucket}", List.of());
        return s;
    }

    static String bucketOf(String ref) {
        int slash = ref.indexOf('/');
        return slash < 0 ? ref : ref.substring(0, slash);
    }

    void copy(String tenant, String ref, Importer.Sink sink) throws IOException {
        Source source = source(tenant, ref);
        MinioClient client = MinioClient.builder().endpoint(source.endpoint()).credentials(source.accessKey(), source.secretKey()).region("us-east-1").build();
        int slash = ref.indexOf('/');
        String bucket = source.bucket();
        String prefix = slash < 0 ? "" : ref.substring(slash + 1).replaceAll("/*$", "/");
        if (prefix.equals("/")) prefix = "";
        int n = 0;
        try {
            for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(prefix).recursive(true).build())) {
                Item item = r.get();
                String path = item.objectName().substring(prefix.length());
                if (item.isDir() || !Importer.wanted(path)) continue;
                try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(item.objectName()).build())) {
                    sink.file(path, in);
                }
                n++;
            }
        } catch (ApiException | IOException e) {
            throw e;
        } catch (Exception e) {
            log.warn("reading s3://{} for tenant {} failed", ref, tenant, e);
            throw new ApiException(HttpStatus.BAD_GATEWAY, "reading s3://" + ref + " from its import source failed");
        }
        if (n == 0) throw new ApiException(HttpStatus.NOT_FOUND, "no model files under s3://" + ref);
    }
}

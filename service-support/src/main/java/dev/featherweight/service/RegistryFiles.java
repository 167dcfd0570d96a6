package dev.featherweight.service;

import dev.featherweight.contracts.registry.FileInfo;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * File bodies to and from the registry, streamed in both directions (a model file may be tens of GB): these
 * go through the same {@link RestClient} as {@link RegistryApi} (timeouts, headers), but are sent once —
 * a stream cannot be replayed, so the caller retries the whole transfer when it wants to.
 */
public class RegistryFiles {
    private final RestClient http;

    public RegistryFiles(RestClient registryRestClient) {
        this.http = registryRestClient;
    }

    /** Reads one response body; the stream is closed after it returns. */
    @FunctionalInterface
    public interface BodyReader<T> {
        T read(InputStream body) throws IOException;
    }

    /** Writes one request body. */
    @FunctionalInterface
    public interface BodyWriter {
        void write(java.io.OutputStream out) throws IOException;
    }

    /** {@code sha256}: what the sender computed, checked by the registry (null: not checked). */
    public FileInfo putModelFile(String tenant, String model, String path, String sha256, BodyWriter body) {
        return put(http.put().uri(b -> b.path("/internal/tenants/{t}/models/{n}/files").queryParam("path", path).build(tenant, model)), sha256, body);
    }

    public FileInfo putArtifactFile(String artifactId, String path, String sha256, BodyWriter body) {
        return put(http.put().uri(b -> b.path("/internal/artifacts/{id}/files").queryParam("path", path).build(artifactId)), sha256, body);
    }

    /** An internal blob of the model (derived data the workers reuse, e.g. base logits), replacing one of the same name. */
    public FileInfo putModelBlob(String tenant, String model, String blob, String sha256, BodyWriter body) {
        return put(http.put().uri("/internal/tenants/{t}/models/{n}/blobs/{b}", tenant, model, blob), sha256, body);
    }

    public <T> T modelBlob(String tenant, String model, String blob, BodyReader<T> reader) {
        return get(http.get().uri("/internal/tenants/{t}/models/{n}/blobs/{b}/content", tenant, model, blob), reader);
    }

    public <T> T modelFile(String tenant, String model, String path, BodyReader<T> reader) {
        return get(http.get().uri(b -> b.path("/internal/tenants/{t}/models/{n}/file").queryParam("path", path).build(tenant, model)), reader);
    }

    /** Only of a complete artifact of this tenant (404 otherwise). */
    public <T> T artifactFile(String tenant, String artifactId, String path, BodyReader<T> reader) {
        return get(http.get().uri(b -> b.path("/internal/tenants/{t}/artifacts/{id}/file").queryParam("path", path).build(tenant, artifactId)), reader);
    }

    private static FileInfo put(RestClient.RequestBodySpec request, String sha256, BodyWriter body) {
        if (sha256 != null) request.header("X-Sha256", sha256);
        return request.contentType(MediaType.APPLICATION_OCTET_STREAM).body(body::write).retrieve().body(FileInfo.class);
    }

    private static <T> T get(RestClient.RequestHeadersSpec<?> request, BodyReader<T> reader) {
        return request.exchange((req, resp) -> {
            if (resp.getStatusCode().isError()) throw resp.createException(); // the same exceptions as RegistryApi (404 → NotFound)
            try (InputStream in = resp.getBody()) {
                return reader.read(in);
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        });
    }
}

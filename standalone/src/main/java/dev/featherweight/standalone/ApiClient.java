package dev.featherweight.standalone;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** A small client of the public REST API (the demo and the end-to-end tests use it; so can scripts). */
public final class ApiClient {
    public static final JsonMapper JSON = JsonMapper.shared();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String key;
    private final Map<String, String> headers;

    public String key() {
        return key;
    }

    public ApiClient(String base, String key) {
        this(base, key, Map.of());
    }

    private ApiClient(String base, String key, Map<String, String> headers) {
        this.base = base;
        this.key = key;
        this.headers = headers;
    }

    public ApiClient withKey(String other) {
        return new ApiClient(base, other, headers);
    }

    /** A client that sends this header with every request too (tests of an internal API: its service credential). */
    public ApiClient withHeader(String name, String value) {
        Map<String, String> more = new java.util.LinkedHashMap<>(headers);
        more.put(name, value);
        return new ApiClient(base, key, Map.copyOf(more));
    }

    public record Response(int status, Map<String, List<String>> headers, byte[] body) {
        public JsonNode json() {
            return JSON.readTree(body);
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(e -> e.getValue().getFirst()).findFirst().orElse(null);
        }

        @Override
        public String toString() {
            return status + " " + text();
        }
    }

    public Response get(String path) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    public Response post(String path, Object body, String... headers) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : JSON.writeValueAsString(body)));
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return send(b);
    }

    /** Uploads every regular file of a folder (non-recursive) as multipart 'files'. */
    public Response uploadModel(String name, Path folder) throws IOException {
        String boundary = "fw" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        List<Path> files;
        try (var s = Files.list(folder)) {
            files = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".md")).sorted().toList();
        }
        for (Path f : files) {
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + f.getFileName()
                    + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            body.write(Files.readAllBytes(f));
            body.write("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        body.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return send(HttpRequest.newBuilder(URI.create(base + "/api/v1/models?name=" + name))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
    }

    /** Uploads one archive (.tar or .zip) as multipart 'archive'. */
    public Response uploadArchive(String name, String fileName, byte[] archive) throws IOException {
        String boundary = "fw" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"" + fileName
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(archive);
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return send(HttpRequest.newBuilder(URI.create(base + "/api/v1/models?name=" + name))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
    }

    public Response delete(String path) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
    }

    public String base() {
        return base;
    }

    public Response send(HttpRequest.Builder b) throws IOException {
        if (key != null) b.header("Authorization", "Bearer " + key);
        headers.forEach(b::header);
        try {
            HttpResponse<byte[]> r = http.send(b.timeout(Duration.ofMinutes(5)).build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Response(r.statusCode(), r.headers().map(), r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** Polls the job until it is SUCCEEDED, FAILED or CANCELLED (or the timeout passes) and returns it. */
    public JsonNode awaitJob(String jobId, Duration timeout) throws IOException, InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < end) {
            Response r = get("/api/v1/jobs/" + jobId);
            if (r.status() == 200) {
                last = r.json();
                String s = last.path("state").asString();
                if (s.equals("SUCCEEDED") || s.equals("FAILED") || s.equals("CANCELLED")) return last;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("job " + jobId + " not finished after " + timeout + ": " + last);
    }
}

package dev.featherweight.gateway;

import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Imports a model folder by reference. {@code hf://org/name@revision}: the Hugging Face Hub HTTP API —
 * {@code GET /api/models/{repo}/revision/{rev}} lists the files ("siblings"), {@code GET /{repo}/resolve/{rev}/{file}}
 * streams each (redirects followed). {@code s3://bucket/prefix}: one of the tenant's import sources ({@link S3Import}).
 */
@Component
public class Importer {
    private final String hubUrl;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(10)).build();
    private final S3Import s3;

    public interface Sink {
        void file(String path, InputStream body) throws IOException;
    }

    public Importer(GatewayProperties settings, S3Import s3) {
        this.hubUrl = settings.hf().url().toString().replaceAll("/+$", "");
        this.s3 = s3;
    }

    /** Before anything is created: an s3:// source must be one of the tenant's import sources. */
    public void checkAllowed(String tenant, String source) {
        if (source.startsWith("s3://")) s3.source(tenant, source.substring(5));
    }

    public void copy(String tenant, String source, String token, Sink sink) throws IOException {
        if (source.startsWith("hf://")) hf(source.substring(5), token, sink);
        else s3.copy(tenant, source.substring(5), sink);
    }

    private void hf(String ref, String token, Sink sink) throws IOException {
        String repo = ref, revision = "main";
        int at = ref.indexOf('@');
        if (at >= 0) {
            repo = ref.substring(0, at);
            revision = ref.substring(at + 1);
        }
        if (!repo.matches("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?") || !revision.matches("[A-Za-z0-9._/-]{1,100}"))
            throw new ApiException(HttpStatus.BAD_REQUEST, "hf:// reference '" + ref + "' is not org/name[@revision]");
        JsonNode info = JsonMapper.shared().readTree(get(hubUrl + "/api/models/" + repo + "/revision/" + URLEncoder.encode(revision, StandardCharsets.UTF_8), token, ref));
        List<String> files = new ArrayList<>();
        for (JsonNode s : info.path("siblings")) files.add(s.path("rfilename").asString());
        if (files.isEmpty()) throw new ApiException(HttpStatus.BAD_REQUEST, "hf://" + ref + " lists no files");
        for (String f : files) {
            if (!wanted(f)) continue;
            try (InputStream in = get(hubUrl + "/" + repo + "/resolve/" + URLEncoder.encode(revision, StandardCharsets.UTF_8) + "/" + f, token, ref)) {
                sink.file(f, in);
            }
        }
    }

    /** Only what a Hugging Face model folder needs: config, tokenizer, safetensors weights. */
    static boolean wanted(String f) {
        return f.endsWith(".json") || f.endsWith(".safetensors") || f.equals("tokenizer.model") || f.endsWith(".txt");
    }

    private InputStream get(String url, String token, String ref) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(30));
        if (token != null && !token.isBlank()) b.header("Authorization", "Bearer " + token);
        try {
            HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() == 401 || r.statusCode() == 403) {
                r.body().close();
                throw new ApiException(HttpStatus.BAD_REQUEST, "the Hub refused hf://" + ref + " (" + r.statusCode() + "): gated or private? pass a token");
            }
            if (r.statusCode() == 404) {
                r.body().close();
                throw new ApiException(HttpStatus.NOT_FOUND, "hf://" + ref + " (" + url + ")");
            }
            if (r.statusCode() != 200) {
                r.body().close();
                throw new ApiException(HttpStatus.BAD_GATEWAY, "the Hub answered " + r.statusCode() + " for " + url);
            }
            return r.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}

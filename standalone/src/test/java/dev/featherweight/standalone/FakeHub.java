package dev.featherweight.standalone;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A local stand-in for the Hugging Face Hub's file endpoints (JDK HttpServer): {@code GET /api/models/{repo}/revision/{rev}}
 * lists "siblings", {@code GET /{repo}/resolve/{rev}/{file}} answers 302 to a CDN-like path that serves the bytes.
 * Requires {@code Authorization: Bearer <token>} like a gated repository.
 */
final class FakeHub implements AutoCloseable {
    final HttpServer server;
    final String repo;
    final String revision;
    final String token;
    final Path folder;

    FakeHub(String repo, String revision, String token, Path folder) throws IOException {
        this.repo = repo;
        this.revision = revision;
        this.token = token;
        this.folder = folder;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange x) throws IOException {
        String path = x.getRequestURI().getPath();
        if (!("Bearer " + token).equals(x.getRequestHeaders().getFirst("Authorization"))) {
            send(x, 401, "{\"error\":\"Access to model " + repo + " is restricted.\"}");
            return;
        }
        if (path.equals("/api/models/" + repo + "/revision/" + revision)) {
            List<String> files;
            try (var s = Files.list(folder)) {
                files = s.map(p -> p.getFileName().toString()).sorted().toList();
            }
            send(x, 200, "{\"id\":\"" + repo + "\",\"sha\":\"0123abcd\",\"siblings\":["
                    + files.stream().map(f -> "{\"rfilename\":\"" + f + "\"}").collect(Collectors.joining(",")) + "]}");
        } else if (path.startsWith("/" + repo + "/resolve/" + revision + "/")) {
            x.getResponseHeaders().add("Location", "/cdn/" + path.substring(path.lastIndexOf('/') + 1));
            x.sendResponseHeaders(302, -1);
            x.close();
        } else if (path.startsWith("/cdn/") && Files.isRegularFile(folder.resolve(path.substring(5)))) {
            byte[] body = Files.readAllBytes(folder.resolve(path.substring(5)));
            x.sendResponseHeaders(200, body.length);
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        } else {
            send(x, 404, "{\"error\":\"Entry not found\"}");
        }
    }

    private static void send(HttpExchange x, int status, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().add("Content-Type", "application/json");
        x.sendResponseHeaders(status, b.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

package dev.featherweight.service;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.featherweight.contracts.jobs.TaskState;
import dev.featherweight.contracts.jobs.TaskStatus;
import dev.featherweight.contracts.registry.NewTenant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.client.ClientHttpRequestInitializer;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.HttpServerErrorException;
import org.springframework.web.client.ResourceAccessException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The internal clients against a real HTTP server (the JDK's) that answers from a script: idempotent calls
 * are retried after 503 until they succeed, other calls are sent once, 4xx is never retried, every request
 * carries the headers of the request initializers, and a server that does not answer runs into the read
 * timeout.
 */
class InternalClientsTest {
    HttpServer server;
    final Deque<Integer> statuses = new ArrayDeque<>();
    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<String> credentials = new CopyOnWriteArrayList<>();
    InternalClients clients;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/internal/", this::answer);
        server.createContext("/slow/", exchange -> {
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
        ClientHttpRequestInitializer credential = request -> request.getHeaders().set("X-Service-Credential", "test-credential");
        clients = new InternalClients(new InternalHttpProperties.Http(Duration.ofSeconds(5), Duration.ofSeconds(20), 3, Duration.ofMillis(10)),
                List.of(credential));
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void answer(HttpExchange exchange) throws IOException {
        requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
        credentials.add(String.valueOf(exchange.getRequestHeaders().getFirst("X-Service-Credential")));
        int status = statuses.isEmpty() ? 200 : statuses.poll();
        byte[] body = status == 200
                ? (exchange.getRequestURI().getPath().startsWith("/internal/tasks/")
                   ? "{\"id\":\"k1\",\"state\":\"RUNNING\",\"attempt\":2,\"open\":true}"
                   : "{\"id\":\"t-1\",\"name\":\"acme\"}").getBytes(StandardCharsets.UTF_8)
                : ("{\"status\":" + status + "}").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Test
    void anIdempotentCallIsRetriedAfterTransientFailuresAndReturnsTheTypedAnswer() {
        statuses.add(503);
        statuses.add(502);
        JobsApi jobs = clients.client(JobsApi.class, clients.restClient(url()));
        TaskStatus status = jobs.task("k1");
        assertThat(status).isEqualTo(new TaskStatus("k1", TaskState.RUNNING, 2, true));
        assertThat(requests).containsExactly("GET /internal/tasks/k1", "GET /internal/tasks/k1", "GET /internal/tasks/k1");
        assertThat(credentials).containsOnly("test-credential");
    }

    @Test
    void retriesStopAfterTheConfiguredNumber() {
        for (int i = 0; i < 10; i++) statuses.add(503);
        JobsApi jobs = clients.client(JobsApi.class, clients.restClient(url()));
        assertThatThrownBy(() -> jobs.task("k1")).isInstanceOf(HttpServerErrorException.ServiceUnavailable.class);
        assertThat(requests).hasSize(4); // the call and 3 retries
    }

    @Test
    void aCallThatIsNotIdempotentIsSentOnce() {
        statuses.add(503);
        RegistryApi registry = clients.client(RegistryApi.class, clients.restClient(url()));
        assertThatThrownBy(() -> registry.createTenant(new NewTenant("acme"))).isInstanceOf(HttpServerErrorException.ServiceUnavailable.class);
        assertThat(requests).containsExactly("POST /internal/tenants");
    }

    @Test
    void aClientErrorIsNotRetried() {
        statuses.add(404);
        JobsApi jobs = clients.client(JobsApi.class, clients.restClient(url()));
        assertThatThrownBy(() -> jobs.task("k1")).isInstanceOf(HttpClientErrorException.NotFound.class);
        assertThat(requests).hasSize(1);
    }

    @Test
    void aServerThatDoesNotAnswerRunsIntoTheReadTimeout() {
        InternalClients impatient = new InternalClients(new InternalHttpProperties.Http(Duration.ofSeconds(5), Duration.ofSeconds(1), 0, Duration.ZERO), List.of());
        var http = impatient.restClient(url()); // read timeout 1 s; the server answers 200 after 5 s
        assertThatThrownBy(() -> http.get().uri("/slow/x").retrieve().toBodilessEntity()).isInstanceOf(ResourceAccessException.class)
                .hasRootCauseInstanceOf(java.net.http.HttpTimeoutException.class);
    }

    @Test
    void noServerAtAllIsATransientFailure() throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        JobsApi jobs = clients.client(JobsApi.class, clients.restClient(URI.create("http://127.0.0.1:" + closed)));
        assertThatThrownBy(() -> jobs.task("k1")).isInstanceOf(ResourceAccessException.class);
        assertThat(InternalClients.transientFailure(new ResourceAccessException("refused"))).isTrue();
    }
}

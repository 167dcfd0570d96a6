package dev.featherweight.eval;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.featherweight.contracts.EvalSpec;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.Sha256;
import dev.featherweight.service.InternalClients;
import dev.featherweight.service.InternalHttpProperties;
import dev.featherweight.service.RegistryApi;
import dev.featherweight.service.RegistryFiles;
import dev.featherweight.worker.Events;
import dev.featherweight.worker.RegistryClient;
import dev.featherweight.worker.TaskContext;
import dev.featherweight.worker.TaskFailure;
import dev.featherweight.worker.TaskHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * What the eval-worker's handler makes of an eval spec: which perplexities it asks the engine for (the
 * source model's only once per text, ctx and chunks — then cached as a model metric in the registry), the
 * metric names and values it stores on the artifact, and the capacity rows it turns into metrics. The
 * registry is a small HTTP server serving one model and one artifact; the engine is a port implementation
 * with known numbers; Kafka acknowledges every progress event.
 */
class EvalHandlerTest {
    static final JsonMapper JSON = JsonMapper.shared();
    static final String CONFIG = "{\"dim\":64}";
    static final String GGUF = "GGUF artifact bytes";

    @TempDir
    Path tmp;
    HttpServer registry;
    final Map<String, Double> modelMetrics = new ConcurrentHashMap<>();
    final Map<String, Object> artifactMetrics = new ConcurrentHashMap<>();
    /** The registry's internal blobs of feather-3m, name → content. */
    final Map<String, String> modelBlobs = new ConcurrentHashMap<>();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final List<String> perplexityCalls = new ArrayList<>();
    final List<Message.TaskEvent> events = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        registry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        registry.createContext("/internal/", this::answer);
        registry.start();
        Files.writeString(tmp.resolve("demo.txt"), "once upon a time");
    }

    @AfterEach
    void stop() {
        registry.stop(0);
    }

    private void answer(HttpExchange x) throws IOException {
        String path = x.getRequestURI().getPath();
        String blobs = "/internal/tenants/t-1/models/feather-3m/blobs/";
        if (path.startsWith(blobs)) {
            answerBlob(x, path.substring(blobs.length()));
            return;
        }
        String body = switch (x.getRequestMethod() + " " + path) {
            case "GET /internal/tenants/t-1/models/feather-3m" -> JSON.writeValueAsString(Map.of("tenantId", "t-1", "name", "feather-3m",
                    "source", "upload", "state", "READY", "createdAt", "2026-01-01T00:00:00Z",
                    "files", List.of(Map.of("path", "config.json", "size", CONFIG.length(), "sha256", Sha256.of(CONFIG))), "metrics", modelMetrics));
            case "GET /internal/tenants/t-1/models/feather-3m/file" -> CONFIG;
            case "GET /internal/tenants/t-1/artifacts/a-1" -> JSON.writeValueAsString(Map.of("id", "a-1", "tenantId", "t-1", "modelName", "feather-3m",
                    "method", "gguf", "bits", 8, "label", "gguf Q8_0", "state", "COMPLETE", "createdAt", "2026-01-01T00:00:00Z", "totalBytes", 4_000_000,
                    "files", List.of(Map.of("path", "model.gguf", "size", GGUF.length(), "sha256", Sha256.of(GGUF)))));
            case "GET /internal/tenants/t-1/artifacts/a-1/file" -> GGUF;
            default -> {
                byte[] sent = x.getRequestBody().readAllBytes();
                if (path.startsWith("/internal/tenants/t-1/models/feather-3m/metrics/"))
                    modelMetrics.put(path.substring(path.lastIndexOf('/') + 1), Double.parseDouble(new String(sent, StandardCharsets.UTF_8)));
                else if (path.equals("/internal/artifacts/a-1/metrics")) artifactMetrics.putAll(JSON.readValue(sent, Map.class));
                else throw new IllegalStateException("unexpected " + path);
                yield null;
            }
        };
        if (body == null) {
            x.sendResponseHeaders(204, -1);
        } else {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().set("Content-Type", "application/json");
            x.sendResponseHeaders(200, bytes.length);
            x.getResponseBody().write(bytes);
        }
        x.close();
    }

    /** The registry's internal blobs of the model: PUT stores (its declared sha256 checked), GET describes, GET …/content reads. */
    private void answerBlob(HttpExchange x, String name) throws IOException {
        boolean content = name.endsWith("/content");
        name = name.replace("/content", "");
        if (x.getRequestMethod().equals("PUT")) {
            String sent = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(x.getRequestHeaders().getFirst("X-Sha256")).isEqualTo(Sha256.of(sent));
            modelBlobs.put(name, sent);
        }
        String blob = modelBlobs.get(name);
        if (blob == null) {
            x.sendResponseHeaders(404, -1);
            x.close();
            return;
        }
        byte[] bytes = (content ? blob : JSON.writeValueAsString(Map.of("path", name, "size", blob.length(), "sha256", Sha256.of(blob))))
                .getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", content ? "application/octet-stream" : "application/json");
        x.sendResponseHeaders(200, bytes.length);
        x.getResponseBody().write(bytes);
        x.close();
    }

    /** Perplexity 7.0 for the source folder, 7.25 for the artifact; two GPUs of capacity rows. */
    EvaluationEngine engine = new EvaluationEngine() {
        @Override
        public double perplexity(Path model, Path tokenizerDir, Path text, int ctx, int chunks) {
            boolean source = Files.exists(model.resolve("config.json"));
            perplexityCalls.add((source ? "source" : "artifact") + " ctx" + ctx + " chunks" + chunks);
            return source ? 7.0 : 7.25;
        }

        @Override
        public List<CapacityRow> capacity(Path sourceModel, long weightBytes, List<String> gpus, int ctx, String kvDtype,
                                          dev.featherweight.catalog.capacity.Precision precision) {
            return gpus.stream().map(g -> new CapacityRow(g, 24_000_000_000L, weightBytes, 512.0, 1_000_000L, 1000L, 1200L, 64.0, 900.0, null)).toList();
        }

        /** The "base logits file" holds the base model's name, so the KLD call can show which base it was handed. */
        @Override
        public void kldBase(Path baseModel, Path tokenizerDir, Path text, int ctx, int chunks, Path out) throws java.io.IOException {
            perplexityCalls.add("kld base ctx" + ctx + " chunks" + chunks + " " + text.getFileName());
            Files.writeString(out, "base of " + baseModel.getFileName());
        }

        @Override
        public Map<String, Double> kld(Path model, Path tokenizerDir, Path baseLogits) throws java.io.IOException {
            perplexityCalls.add("kld artifact against " + Files.readString(baseLogits));
            return Map.of("kld_mean", 0.005, "same_top_p", 0.96);
        }

        @Override
        public Map<String, Double> multipleChoice(Path model, Path tokenizerDir, Path tasks, int limit) {
            perplexityCalls.add("mc " + tasks.getFileName() + " limit" + limit);
            return Map.of("mc_accuracy", 0.5325, "mc_accuracy_unc", 0.025);
        }

        @Override
        public String version() {
            return "test";
        }
    };

    EvalHandler handler() {
        return handler("cache");
    }

    /** A handler with its own local cache folder: another worker. */
    EvalHandler handler(String cache) {
        InternalClients clients = new InternalClients(new InternalHttpProperties.Http(Duration.ofSeconds(2), Duration.ofSeconds(10), 0, Duration.ZERO), List.of());
        var http = clients.restClient(URI.create("http://127.0.0.1:" + registry.getAddress().getPort()));
        RegistryClient client = new RegistryClient(clients.client(RegistryApi.class, http), new RegistryFiles(http), tmp.resolve(cache), 1L << 30, Duration.ZERO);
        return new EvalHandler(engine, client, tmp, meters);
    }

    TaskContext context(Message.TaskAssigned task) {
        KafkaTemplate<String, String> kafka = new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(Map.of())) {
            @Override
            public CompletableFuture<SendResult<String, String>> send(String topic, String key, String value) {
                events.add((Message.TaskEvent) dev.featherweight.contracts.Json.read(value));
                ProducerRecord<String, String> r = new ProducerRecord<>(topic, key, value);
                return CompletableFuture.completedFuture(new SendResult<>(r, new RecordMetadata(new TopicPartition(topic, 0), 0, 0, 0, 0, 0)));
            }
        };
        return new TaskContext(task, new Events(kafka));
    }

    static Message.TaskAssigned task(EvalSpec spec) {
        return new Message.TaskAssigned("m-1", "j-1-e0", "j-1", "t-1", 1, Message.TaskKind.EVAL, "feather-3m", null, "a-1", spec, 30);
    }

    @Test
    void perplexityAndCapacityBecomeArtifactMetrics() throws Exception {
        EvalSpec spec = new EvalSpec(new EvalSpec.Perplexity("demo", 128, 8), new EvalSpec.Capacity(List.of("L4", "A100-40GB-PCIe"), 2048, "fp16"));
        Message.TaskAssigned task = task(spec);
        TaskHandler.Outcome outcome = handler().run(task, context(task));

        assertThat(outcome.artifactId()).isEqualTo("a-1");
        assertThat(outcome.metrics()).containsEntry("perplexity_base", 7.0).containsEntry("perplexity", 7.25)
                .containsEntry("capacity.L4.max_sequences_ctx2048", 1000.0).containsEntry("capacity.L4.max_sequences_paged_ctx2048", 1200.0)
                .containsEntry("capacity.A100-40GB-PCIe.decode_tokens_per_s", 900.0).containsEntry("capacity.L4.kv_bytes_per_token", 512.0)
                .containsEntry("capacity.L4.max_tokens", 1_000_000.0).containsEntry("capacity.L4.optimal_batch", 64.0);
        assertThat(outcome.metrics().get("perplexity_delta")).isCloseTo(0.25, within(1e-12));
        assertThat(artifactMetrics).containsOnlyKeys(outcome.metrics().keySet());
        assertThat(modelMetrics).containsEntry("perplexity.demo.ctx128.chunks8", 7.0);
        assertThat(perplexityCalls).containsExactly("source ctx128 chunks8", "artifact ctx128 chunks8");
        assertThat(events).filteredOn(e -> e instanceof Message.TaskProgress).extracting(e -> ((Message.TaskProgress) e).blocks()).containsOnly(3);
        // the downloaded files are the registry's, byte for byte
        assertThat(Files.readString(tmp.resolve("cache/artifacts/a-1/model.gguf"))).isEqualTo(GGUF);
    }

    @Test
    void theSourcePerplexityIsComputedOnlyOncePerTextCtxAndChunks() throws Exception {
        EvalSpec spec = new EvalSpec(new EvalSpec.Perplexity("demo", 128, 8), null);
        EvalHandler handler = handler();
        handler.run(task(spec), context(task(spec)));
        handler.run(task(spec), context(task(spec)));
        assertThat(perplexityCalls).containsExactly("source ctx128 chunks8", "artifact ctx128 chunks8", "artifact ctx128 chunks8");
    }

    @Test
    void kldReusesTheBaseLogitsAcrossArtifactsAndMultipleChoiceScoresTheTaskFile() throws Exception {
        Files.writeString(tmp.resolve("tasks.txt"), "ctx\n0\na\nb\nc\nd\n");
        EvalSpec spec = new EvalSpec(new EvalSpec.Perplexity("demo", 128, 8), null, new EvalSpec.Kld(null, null, null),
                new EvalSpec.MultipleChoice("tasks", 40));
        EvalHandler handler = handler();
        TaskHandler.Outcome outcome = handler.run(task(spec), context(task(spec)));
        handler.run(task(spec), context(task(spec)));
        handler("other-worker-cache").run(task(spec), context(task(spec))); // another worker takes the registry's blob
        assertThat(outcome.metrics()).containsEntry("kld_mean", 0.005).containsEntry("same_top_p", 0.96)
                .containsEntry("mc_accuracy", 0.5325).containsEntry("mc_accuracy_unc", 0.025);
        assertThat(artifactMetrics).containsEntry("kld_mean", 0.005).containsEntry("mc_accuracy", 0.5325);
        String sourceDir = perplexityCalls.stream().filter(c -> c.startsWith("kld artifact")).findFirst().orElseThrow();
        assertThat(sourceDir).isEqualTo("kld artifact against base of " + "feather-3m");
        // the base run once, with the perplexity spec's text, ctx and chunks; the artifact's KLD and accuracy each time
        assertThat(perplexityCalls).filteredOn(c -> c.startsWith("kld base")).containsExactly("kld base ctx128 chunks8 demo.txt");
        assertThat(perplexityCalls).filteredOn(c -> c.startsWith("kld artifact")).containsOnly("kld artifact against base of feather-3m").hasSize(3);
        assertThat(meters.counter("featherweight.eval.kld.base.computed").count()).isEqualTo(1);
        // kept in the registry as the model's internal blob, named by text, ctx and chunks; each worker's copy is the registry's
        assertThat(modelBlobs).containsExactly(Map.entry("kld-base.demo.ctx128.chunks8", "base of feather-3m"));
        assertThat(tmp.resolve("other-worker-cache/model-blobs/t-1/feather-3m/kld-base.demo.ctx128.chunks8")).hasContent("base of feather-3m");
        assertThat(perplexityCalls).filteredOn(c -> c.startsWith("mc ")).hasSize(3).containsOnly("mc tasks.txt limit40");
        assertThat(events).filteredOn(e -> e instanceof Message.TaskProgress).extracting(e -> ((Message.TaskProgress) e).blocks()).contains(5);
    }

    @Test
    void capacityAloneNeedsNoPerplexity() throws Exception {
        EvalSpec spec = new EvalSpec(null, new EvalSpec.Capacity(List.of("L4"), 512, "fp16"));
        TaskHandler.Outcome outcome = handler().run(task(spec), context(task(spec)));
        assertThat(perplexityCalls).isEmpty();
        assertThat(outcome.metrics()).containsOnlyKeys("capacity.L4.kv_bytes_per_token", "capacity.L4.max_tokens", "capacity.L4.max_sequences_ctx512",
                "capacity.L4.max_sequences_paged_ctx512", "capacity.L4.optimal_batch", "capacity.L4.decode_tokens_per_s");
    }

    @Test
    void anUnknownEvaluationTextFailsTheTaskWithoutRetry() {
        EvalSpec spec = new EvalSpec(new EvalSpec.Perplexity("missing", 128, 8), null);
        assertThatThrownBy(() -> handler().run(task(spec), context(task(spec))))
                .isInstanceOfSatisfying(TaskFailure.class, f -> assertThat(f.retryable).isFalse())
                .hasMessageContaining("evaluation text 'missing' not found");
    }
}

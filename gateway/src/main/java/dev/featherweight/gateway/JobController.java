package dev.featherweight.gateway;

import dev.featherweight.contracts.JobSpec;
import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.client.RestClient;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Jobs. Submit answers 202 + Location only after Kafka acknowledged the JobSubmitted message (acks=all).
 * With an {@code Idempotency-Key}, the job id is derived from (tenant, key): a retried submit publishes the
 * same job id again, which the job-service recognizes, and answers with the same Location.
 */
@RestController
@RequestMapping("/api/v1/jobs")
@Tag(name = "jobs")
public class JobController {
    private final KafkaTemplate<String, String> kafka;
    private final RestClient registry;
    private final RestClient jobs;
    private final JobEvents events;
    private final Timer submitTimer;
    private final RecipeValidation recipes;
    private final Map<String, Long> readyModels = new java.util.concurrent.ConcurrentHashMap<>();

    public JobController(KafkaTemplate<String, String> kafka, RestClient registryClient, RestClient jobsClient, JobEvents events, MeterRegistry meters,
                         RecipeValidation recipes) {
        this.recipes = recipes;
        this.kafka = kafka;
        this.registry = registryClient;
        this.jobs = jobsClient;
        this.events = events;
        this.submitTimer = Timer.builder("featherweight.gateway.submit").publishPercentiles(0.5, 0.99).register(meters);
    }

    public record Accepted(String jobId, String status, URI location) {}

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(summary = "Submit a job: a model, recipes (a sweep) and an optional evaluation")
    public ResponseEntity<Accepted> submit(HttpServletRequest request, @RequestBody JobSpec spec,
                                           @RequestHeader(value = "Idempotency-Key", required = false) String idempotencyKey) throws Exception {
        long t0 = System.nanoTime();
        String tenant = Auth.tenant(request);
        List<String> problems = new java.util.ArrayList<>(spec.problems());
        if (problems.isEmpty()) problems.addAll(CapacityController.unknownGpus(spec.eval()));
        if (!problems.isEmpty()) throw new ApiException(HttpStatus.BAD_REQUEST, "invalid job: " + problems.size() + " problem(s)", problems);
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > 200))
            throw new ApiException(HttpStatus.BAD_REQUEST, "Idempotency-Key: 1 to 200 characters");
        String modelKey = tenant + "\n" + spec.modelId();
        Long readyUntil = readyModels.get(modelKey);
        if (readyUntil == null || readyUntil < System.currentTimeMillis()) { // a READY model stays READY: ask the registry once a minute
            Map<?, ?> model = registry.get().uri("/internal/tenants/{t}/models/{n}", tenant, spec.modelId()).retrieve().body(Map.class);
            if (!"READY".equals(model.get("state")))
                throw new ApiException(HttpStatus.CONFLICT, "model " + spec.modelId() + " is " + model.get("state") + ", not READY");
            readyModels.put(modelKey, System.currentTimeMillis() + 60_000);
        }
        List<String> modelProblems = recipes.problems(tenant, spec); // what the model's shape rules out (group sizes, context)
        if (!modelProblems.isEmpty())
            throw new ApiException(HttpStatus.BAD_REQUEST, "invalid job: " + modelProblems.size() + " problem(s)", modelProblems);
        String jobId = "j-" + (idempotencyKey == null ? UUID.randomUUID()
                : UUID.nameUUIDFromBytes((tenant + "\n" + idempotencyKey).getBytes(StandardCharsets.UTF_8)));
        Message.JobSubmitted m = new Message.JobSubmitted("submit-" + jobId + "-" + UUID.randomUUID(), jobId, tenant, spec, Instant.now());
        kafka.send(Topics.JOB_COMMANDS, m.key(), Json.write(m)).get(30, TimeUnit.SECONDS);
        submitTimer.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        URI location = URI.create("/api/v1/jobs/" + jobId);
        return ResponseEntity.accepted().location(location).body(new Accepted(jobId, "SUBMITTED", location));
    }

    @GetMapping
    @Operation(summary = "List jobs, newest first, filtered by state and model")
    public Object list(HttpServletRequest request, @RequestParam(required = false) String state, @RequestParam(required = false) String model,
                       @RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "20") int size) {
        if (page < 0 || size < 1 || size > 200) throw new ApiException(HttpStatus.BAD_REQUEST, "page >= 0 and 1 <= size <= 200");
        if (state != null && !List.of("SUBMITTED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED").contains(state))
            throw new ApiException(HttpStatus.BAD_REQUEST, "state: one of SUBMITTED, RUNNING, SUCCEEDED, FAILED, CANCELLED");
        String tenant = Auth.tenant(request);
        return jobs.get().uri(b -> b.path("/internal/jobs").queryParam("tenant", tenant).queryParamIfPresent("state", java.util.Optional.ofNullable(state))
                .queryParamIfPresent("model", java.util.Optional.ofNullable(model)).queryParam("page", page).queryParam("size", size).build())
                .retrieve().body(Object.class);
    }

    @GetMapping("/{id}")
    @Operation(summary = "A job: state, tasks with progress, ETA, simulated GPU seconds and wall seconds, errors")
    public Object get(HttpServletRequest request, @PathVariable String id) {
        return jobs.get().uri(b -> b.path("/internal/jobs/{id}").queryParam("tenant", Auth.tenant(request)).build(id)).retrieve().body(Object.class);
    }

    @PostMapping("/{id}/cancel")
    @ResponseStatus(HttpStatus.ACCEPTED)
    @Operation(summary = "Cancel a job: none of its tasks starts after this answer, running ones stop at their next block; 409 if it already finished")
    public void cancel(HttpServletRequest request, @PathVariable String id) {
        // synchronous (not a Kafka command): when this answers 202 the job-service has committed the fence
        jobs.post().uri(b -> b.path("/internal/jobs/{id}/cancel").queryParam("tenant", Auth.tenant(request)).build(id)).retrieve().toBodilessEntity();
    }

    @GetMapping(path = "/{id}/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    @Operation(summary = "Server-sent events of a job: state changes, task progress")
    public SseEmitter stream(HttpServletRequest request, @PathVariable String id) {
        String tenant = Auth.tenant(request);
        get(request, id); // 404 for an unknown or another tenant's job
        return events.subscribe(tenant, id, () -> get(request, id)); // snapshot taken after subscribing: no event falls between
    }
}

package dev.featherweight.gateway;

import dev.featherweight.contracts.JobSpec;
import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.Topics;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.featherweight.contracts.jobs.JobPage;
import dev.featherweight.contracts.jobs.JobState;
import dev.featherweight.contracts.jobs.JobView;
import dev.featherweight.contracts.registry.Model;
import dev.featherweight.contracts.registry.ModelState;
import dev.featherweight.service.JobsApi;
import dev.featherweight.service.RegistryApi;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import org.springframework.http.ProblemDetail;
import org.springframework.web.client.HttpClientErrorException;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Jobs. Submit answers 202 + Location only after Kafka acknowledged the JobSubmitted message (acks=all).
 * With an {@code Idempotency-Key}, the job id is derived from (tenant, key): a retry with the same body is the
 * same job (202 with its current state, nothing published again); the same key with another body is 422.
 * A tenant with as many jobs in flight as its limit gets 429.
 */
@RestController
@RequestMapping("/api/v1/jobs")
@Tag(name = "jobs")
public class JobController {
    private final KafkaTemplate<String, String> kafka;
    private final RegistryApi registry;
    private final JobsApi jobs;
    private final JobEvents events;
    private final Timer submitTimer;
    private final RecipeValidation recipes;
    /** (tenant, model) pairs seen READY: a READY model stays READY, so a burst of submissions asks the registry once per period. */
    private final Cache<ReadyKey, Boolean> readyModels;

    private final TenantLimits limits;
    /** Specs of recent idempotent submissions (job id → spec), for a retry that arrives before the job-service stored the job. */
    private final Cache<String, JsonNode> recentSpecs = Caffeine.newBuilder().expireAfterWrite(Duration.ofMinutes(10)).maximumSize(100_000).build();

    record ReadyKey(String tenant, String model) {}

    public JobController(KafkaTemplate<String, String> kafka, RegistryApi registry, JobsApi jobs, JobEvents events, MeterRegistry meters,
                         GatewayProperties settings, RecipeValidation recipes, TenantLimits limits) {
        this.recipes = recipes;
        this.limits = limits;
        this.kafka = kafka;
        this.registry = registry;
        this.jobs = jobs;
        this.events = events;
        this.submitTimer = Timer.builder("featherweight.gateway.submit").publishPercentiles(0.5, 0.99).register(meters);
        this.readyModels = Caffeine.newBuilder().expireAfterWrite(settings.gateway().readyModelTtl()).maximumSize(10_000).build();
    }

    public record Accepted(String jobId, JobState status, URI location) {}

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @ResponseStatus(HttpStatus.ACCEPTED)
    @Operation(summary = "Submit a job: a model, recipes (a sweep) and an optional evaluation")
    @ApiResponse(responseCode = "202", description = "accepted (Kafka acknowledged it), or the job this Idempotency-Key already made, with its current state")
    @ApiResponse(responseCode = "400", description = "invalid job", content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "404", description = "unknown model", content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "422", description = "the Idempotency-Key was used with another body", content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "429", description = "the tenant's jobs-in-flight limit is reached", content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    public ResponseEntity<Accepted> submit(HttpServletRequest request, @RequestBody JobSpec spec,
                                           @RequestHeader(value = "Idempotency-Key", required = false) String idempotencyKey) throws Exception {
        long t0 = System.nanoTime();
        String tenant = Auth.tenant(request);
        List<String> problems = new java.util.ArrayList<>(spec.problems());
        if (spec.recommend() != null) problems.add("recommend: a recommendation is submitted with POST /api/v1/recommendations, which prunes its candidates first");
        if (problems.isEmpty()) problems.addAll(CapacityController.unknownGpus(spec.eval()));
        if (!problems.isEmpty()) throw new ApiException(HttpStatus.BAD_REQUEST, "invalid job: " + problems.size() + " problem(s)", problems);
        checkIdempotencyKey(idempotencyKey);
        requireReady(tenant, spec.modelId());
        List<String> modelProblems = recipes.problems(tenant, spec); // what the model's shape rules out (group sizes, context)
        if (!modelProblems.isEmpty())
            throw new ApiException(HttpStatus.BAD_REQUEST, "invalid job: " + modelProblems.size() + " problem(s)", modelProblems);
        return enqueue(tenant, spec, idempotencyKey, "/api/v1/jobs/", t0);
    }

    static void checkIdempotencyKey(String idempotencyKey) {
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > 200))
            throw new ApiException(HttpStatus.BAD_REQUEST, "Idempotency-Key: 1 to 200 characters");
    }

    /** 404 for a model the tenant does not have, 409 for one not READY (yet). */
    void requireReady(String tenant, String modelId) {
        ReadyKey modelKey = new ReadyKey(tenant, modelId);
        if (readyModels.getIfPresent(modelKey) == null) {
            Model model = registry.model(tenant, modelId);
            if (model.state() != ModelState.READY)
                throw new ApiException(HttpStatus.CONFLICT, "model " + modelId + " is " + model.state() + ", not READY");
            readyModels.put(modelKey, Boolean.TRUE);
        }
    }

    /**
     * Publishes a validated spec (idempotency, the tenant's jobs-in-flight limit, acks=all) and answers 202 with
     * {@code locationBase} + the job id; recommendations take this same path as jobs.
     */
    ResponseEntity<Accepted> enqueue(String tenant, JobSpec spec, String idempotencyKey, String locationBase, long t0) throws Exception {
        String jobId = "j-" + (idempotencyKey == null ? UUID.randomUUID()
                : UUID.nameUUIDFromBytes((tenant + "\n" + idempotencyKey).getBytes(StandardCharsets.UTF_8)));
        if (idempotencyKey != null) {
            JsonNode body = Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(spec)); // as the job-service stores it
            JsonNode earlier = recentSpecs.getIfPresent(jobId);
            JobState state = JobState.SUBMITTED;
            try {
                JobView stored = jobs.job(jobId, tenant);
                earlier = Json.MAPPER.valueToTree(stored.spec());
                state = stored.state();
            } catch (HttpClientErrorException.NotFound notYet) {
                // not (yet) in the job-service: the recent submission, if any, decides
            }
            if (earlier != null) {
                if (!earlier.equals(body))
                    throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "idempotency-key-reused",
                            "Idempotency-Key '" + idempotencyKey + "' was already used for job " + jobId + " with a different body", List.of());
                URI location = URI.create(locationBase + jobId);
                return ResponseEntity.accepted().location(location).body(new Accepted(jobId, state, location));
            }
        }
        TenantController.Limits limit = limits.of(tenant);
        long inFlight = limits.jobsInFlight(tenant);
        if (limit.jobsInFlight() != null && inFlight >= limit.jobsInFlight())
            throw new ApiException(HttpStatus.TOO_MANY_REQUESTS, "jobs-in-flight-limit",
                    "the tenant has " + inFlight + " jobs in flight, its limit is " + limit.jobsInFlight() + "; retry when one has finished", List.of());
        if (idempotencyKey != null) recentSpecs.put(jobId, Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(spec)));
        Message.JobSubmitted m = new Message.JobSubmitted("submit-" + jobId + "-" + UUID.randomUUID(), jobId, tenant, spec, Instant.now());
        kafka.send(Topics.JOB_COMMANDS, m.key(), Json.write(m)).get(30, TimeUnit.SECONDS);
        submitTimer.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        URI location = URI.create(locationBase + jobId);
        return ResponseEntity.accepted().location(location).body(new Accepted(jobId, JobState.SUBMITTED, location));
    }

    @GetMapping
    @Operation(summary = "List jobs, newest first, filtered by state and model")
    public JobPage list(HttpServletRequest request, @RequestParam(required = false) String state, @RequestParam(required = false) String model,
                        @RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "20") int size) {
        if (page < 0 || size < 1 || size > 200) throw new ApiException(HttpStatus.BAD_REQUEST, "page >= 0 and 1 <= size <= 200");
        JobState wanted = null;
        if (state != null) {
            try {
                wanted = JobState.valueOf(state);
            } catch (IllegalArgumentException e) {
                throw new ApiException(HttpStatus.BAD_REQUEST, "state: one of " + java.util.Arrays.toString(JobState.values()));
            }
        }
        return jobs.jobs(Auth.tenant(request), wanted, model, page, size);
    }

    @GetMapping("/{id}")
    @Operation(summary = "A job: state, tasks with progress, ETA, simulated GPU seconds and wall seconds, errors")
    public JobView get(HttpServletRequest request, @PathVariable String id) {
        Ids.check("id", id);
        return jobs.job(id, Auth.tenant(request));
    }

    @PostMapping("/{id}/cancel")
    @ResponseStatus(HttpStatus.ACCEPTED)
    @Operation(summary = "Cancel a job: none of its tasks starts after this answer, running ones stop at their next block; 409 if it already finished")
    public void cancel(HttpServletRequest request, @PathVariable String id) {
        Ids.check("id", id);
        // synchronous (not a Kafka command): when this answers 202 the job-service has committed the fence
        jobs.cancel(id, Auth.tenant(request));
    }

    @GetMapping(path = "/{id}/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    @Operation(summary = "Server-sent events of a job: state changes, task progress")
    public SseEmitter stream(HttpServletRequest request, @PathVariable String id) {
        String tenant = Auth.tenant(request);
        get(request, id); // 404 for an unknown or another tenant's job
        return events.subscribe(tenant, id, () -> get(request, id)); // snapshot taken after subscribing: no event falls between
    }
}

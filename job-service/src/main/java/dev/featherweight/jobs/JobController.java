package dev.featherweight.jobs;

import dev.featherweight.contracts.JobSpec;
import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.jobs.JobPage;
import dev.featherweight.contracts.jobs.JobState;
import dev.featherweight.contracts.jobs.JobView;
import dev.featherweight.contracts.jobs.TaskState;
import dev.featherweight.contracts.jobs.TaskClaim;
import dev.featherweight.contracts.jobs.TaskStatus;
import dev.featherweight.contracts.jobs.TaskView;
import org.springframework.data.domain.PageRequest;
import org.springframework.data.domain.Sort;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.*;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/** Internal read API: the gateway asks here for job state (tenant passed explicitly; another tenant's job is 404). */
@RestController
@RequestMapping("/internal")
public class JobController {
    private final JobRepository jobs;
    private final TaskRepository tasks;
    private final JobStateMachine machine;

    public JobController(JobRepository jobs, TaskRepository tasks, JobStateMachine machine) {
        this.jobs = jobs;
        this.tasks = tasks;
        this.machine = machine;
    }

    @GetMapping("/jobs/{id}")
    JobView job(@PathVariable String id, @RequestParam String tenant) {
        return jobs.findById(id).filter(j -> j.tenantId.equals(tenant)).map(this::view)
                .orElseThrow(() -> new NoSuchElementException("job " + id + " not found"));
    }

    @GetMapping("/jobs")
    JobPage list(@RequestParam String tenant, @RequestParam(required = false) JobState state, @RequestParam(required = false) String model,
                  @RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "20") int size) {
        var p = jobs.search(tenant, state, model, PageRequest.of(page, size, Sort.by(Sort.Direction.DESC, "submittedAt").and(Sort.by("id"))));
        return new JobPage(p.getContent().stream().map(this::view).toList(), page, size, p.getTotalElements());
    }

    public record TenantJobs(long jobsInFlight) {}

    /** Jobs of a tenant that are submitted or running (the gateway holds them to the tenant's limit). */
    @GetMapping("/tenants/{tenant}/jobs-in-flight")
    TenantJobs inFlight(@PathVariable String tenant) {
        return new TenantJobs(jobs.countByTenantIdAndStateIn(tenant, List.of(JobState.SUBMITTED, JobState.RUNNING)));
    }

    /** For workers: is this attempt still the current one, and is the task still open? */
    @GetMapping("/tasks/{id}")
    TaskStatus task(@PathVariable String id) {
        TaskEntity t = tasks.findById(id).orElseThrow(() -> new NoSuchElementException("task " + id + " not found"));
        return new TaskStatus(t.id, t.state, t.attempt, t.open());
    }

    /**
     * Cancels synchronously, so that when the gateway answers 202 the fence is already up: no task of the
     * job starts after that. 404 for an unknown or another tenant's job, 409 for a finished one.
     */
    @PostMapping("/jobs/{id}/cancel")
    ResponseEntity<?> cancel(@PathVariable String id, @RequestParam String tenant) {
        for (int tries = 1; ; tries++) {
            try {
                return switch (machine.cancel(id, tenant)) {
                    case CANCELLED -> ResponseEntity.accepted().build();
                    case NOT_FOUND -> throw new NoSuchElementException("job " + id + " not found");
                    case ALREADY_FINISHED -> ResponseEntity.status(HttpStatus.CONFLICT).body(ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT,
                            "job " + id + " is already " + jobs.findById(id).map(j -> j.state.name()).orElse("finished") + "; only a running job can be cancelled"));
                };
            } catch (org.springframework.dao.ConcurrencyFailureException e) {
                if (tries == 5) throw e; // an event of the job committed meanwhile: look again
            }
        }
    }

    /** A worker asks to run an attempt: 204 if it is now its own, 409 if not (cancelled, superseded, taken by another worker). */
    @PostMapping("/tasks/{id}/claim")
    ResponseEntity<?> claim(@PathVariable String id, @RequestBody TaskClaim claim) {
        boolean claimed = false;
        for (int tries = 1; tries <= 5; tries++) {
            try {
                claimed = machine.claim(id, claim.attempt(), claim.worker(), claim.gpu());
                break;
            } catch (org.springframework.dao.ConcurrencyFailureException e) {
                // the task or its job changed meanwhile (a claim of another task of the job, a cancel, another worker):
                // look again — only a task still ASSIGNED at this attempt is claimed
            }
        }
        if (claimed) return ResponseEntity.noContent().build();
        TaskStatus now = tasks.findById(id).map(t -> new TaskStatus(t.id, t.state, t.attempt, t.open())).orElse(null);
        return ResponseEntity.status(HttpStatus.CONFLICT).body(ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT,
                "task " + id + " attempt " + claim.attempt() + " cannot start: " + (now == null ? "unknown task" : now)));
    }

    private JobView view(JobEntity j) {
        List<TaskView> tv = tasks.findByJobIdOrderBySeq(j.id).stream().map(JobController::view).toList();
        double gpu = tv.stream().mapToDouble(t -> t.gpuSeconds() == null ? 0 : t.gpuSeconds()).sum();
        double wall = tv.stream().mapToDouble(t -> t.wallSeconds() == null ? 0 : t.wallSeconds()).sum();
        Double progress = tv.isEmpty() ? null : tv.stream().mapToDouble(t -> t.progress() == null ? 0 : t.progress()).average().orElse(0);
        Double eta = j.terminal() ? Double.valueOf(0) : tv.stream().filter(t -> t.etaSeconds() != null).mapToDouble(TaskView::etaSeconds).max().stream().boxed().findFirst().orElse(null);
        return new JobView(j.id, j.tenantId, j.modelName, j.state, j.error, j.submittedAt, j.startedAt, j.finishedAt, progress, eta,
                gpu, wall, Json.MAPPER.readValue(j.spec, JobSpec.class), tv);
    }

    private static TaskView view(TaskEntity t) {
        Double progress = t.state == TaskState.SUCCEEDED ? Double.valueOf(1.0)
                : t.blocks == null || t.blocks == 0 ? Double.valueOf(0.0) : (double) t.block / t.blocks;
        @SuppressWarnings("unchecked")
        Map<String, Double> metrics = t.metrics == null ? Map.of() : Json.MAPPER.readValue(t.metrics, Map.class);
        Double wall = t.wallSeconds;
        if (t.state == TaskState.RUNNING && t.startedAt != null) wall = Duration.between(t.startedAt, Instant.now()).toMillis() / 1000.0;
        return new TaskView(t.id, t.kind, t.label, t.state, t.attempt, t.maxAttempts, t.worker, t.gpu, t.block, t.blocks, t.module,
                progress, wall, t.gpuSeconds, t.secondsLeft, t.inputArtifactId, t.outputArtifactId, metrics, t.error, t.startedAt, t.finishedAt);
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> notFound(NoSuchElementException e) {
        return ResponseEntity.status(HttpStatus.NOT_FOUND).body(ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, e.getMessage()));
    }
}

package dev.featherweight.service;

import dev.featherweight.contracts.jobs.JobPage;
import dev.featherweight.contracts.jobs.JobState;
import dev.featherweight.contracts.jobs.JobView;
import dev.featherweight.contracts.jobs.TaskClaim;
import dev.featherweight.contracts.jobs.TaskStatus;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.service.annotation.GetExchange;
import org.springframework.web.service.annotation.HttpExchange;
import org.springframework.web.service.annotation.PostExchange;

/** The job-service's internal API (reads, a worker's claim, a cancel); another tenant's job is 404 ({@code HttpClientErrorException.NotFound}). */
@HttpExchange("/internal")
public interface JobsApi {

    @Idempotent
    @GetExchange("/jobs/{id}")
    JobView job(@PathVariable String id, @RequestParam String tenant);

    @Idempotent
    @GetExchange("/jobs")
    JobPage jobs(@RequestParam String tenant, @RequestParam(required = false) JobState state, @RequestParam(required = false) String model,
                 @RequestParam int page, @RequestParam int size);

    /** For workers: is this attempt still the current one? */
    @Idempotent
    @GetExchange("/tasks/{id}")
    TaskStatus task(@PathVariable String id);

    /**
     * For workers: run this attempt. 204 if it is now this worker's; 409 ({@code HttpClientErrorException.Conflict})
     * if not (job cancelled or finished, attempt superseded, claimed by another worker), 404 for an unknown task.
     * Not retried here: a lost answer to a granted claim makes the retry a 409 — the worker retries it itself.
     */
    @PostExchange("/tasks/{id}/claim")
    void claim(@PathVariable String id, @RequestBody TaskClaim claim);

    /**
     * Cancels a job synchronously: 202 once its tasks are fenced; 409 if it has already finished,
     * 404 for another tenant's or an unknown job. Sent once: a repeat of a cancel that went through is a 409.
     */
    @PostExchange("/jobs/{id}/cancel")
    void cancel(@PathVariable String id, @RequestParam String tenant);
}

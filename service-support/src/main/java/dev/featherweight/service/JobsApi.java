package dev.featherweight.service;

import dev.featherweight.contracts.jobs.JobPage;
import dev.featherweight.contracts.jobs.JobState;
import dev.featherweight.contracts.jobs.JobView;
import dev.featherweight.contracts.jobs.TaskStatus;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.service.annotation.GetExchange;
import org.springframework.web.service.annotation.HttpExchange;

/** The job-service's internal read API; another tenant's job is 404 ({@code HttpClientErrorException.NotFound}). */
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
}

package dev.featherweight.worker;

import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.RestClient;

/** Asks the job-service whether an attempt is still the current one (the worker-side half of fencing). */
public class JobsClient {
    private final RestClient http;

    public JobsClient(RestClient http) {
        this.http = http;
    }

    public record TaskStatus(String id, String state, int attempt, boolean open) {}

    /** Null when the job-service does not know the task. */
    public TaskStatus status(String taskId) {
        try {
            return http.get().uri("/internal/tasks/{id}", taskId).retrieve().body(TaskStatus.class);
        } catch (HttpClientErrorException.NotFound e) {
            return null;
        }
    }
}

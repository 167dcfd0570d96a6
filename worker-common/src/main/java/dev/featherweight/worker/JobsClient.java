package dev.featherweight.worker;

import org.springframework.http.HttpStatus;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.RestClient;

/** Asks the job-service whether an attempt is still the current one (the worker-side half of fencing). */
public class JobsClient {
    private final RestClient http;

    public JobsClient(RestClient http) {
        this.http = http;
    }

    public record TaskStatus(String id, String state, int attempt, boolean open) {}

    public record Claim(int attempt, String worker, String gpu) {}

    /**
     * Asks to run this attempt; false when it must not start (job cancelled or finished, attempt superseded,
     * or another worker claimed the same attempt first). Other errors propagate: the task is then not started
     * and its message not lost (the job-service offers it again).
     */
    public boolean claim(String taskId, int attempt, String worker, String gpu) {
        try {
            http.post().uri("/internal/tasks/{id}/claim", taskId).body(new Claim(attempt, worker, gpu)).retrieve().toBodilessEntity();
            return true;
        } catch (HttpClientErrorException e) {
            if (e.getStatusCode().isSameCodeAs(HttpStatus.CONFLICT) || e.getStatusCode().isSameCodeAs(HttpStatus.NOT_FOUND)) return false;
            throw e;
        }
    }

    /** Null when the job-service does not know the task. */
    public TaskStatus status(String taskId) {
        try {
            return http.get().uri("/internal/tasks/{id}", taskId).retrieve().body(TaskStatus.class);
        } catch (HttpClientErrorException.NotFound e) {
            return null;
        }
    }
}

package dev.featherweight.registry;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;

import java.net.http.HttpClient;
import java.time.Duration;

/**
 * The registry's half of cancel-as-a-fence: before an artifact becomes visible, the job-service must still
 * hold its task open (not cancelled, not failed). Asked at completion time, after the last file is stored,
 * so an artifact whose job was cancelled during its upload never becomes visible.
 */
@Component
public class TaskFence {
    private final RestClient jobs;

    public TaskFence(@Value("${featherweight.jobs-url}") String jobsUrl) {
        this.jobs = RestClient.builder().baseUrl(jobsUrl)
                .requestFactory(new JdkClientHttpRequestFactory(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build())).build();
    }

    record TaskStatus(String id, String state, int attempt, boolean open) {}

    /** Null if the task may complete its artifact, otherwise why not. */
    public String refusal(String taskId) {
        TaskStatus s;
        try {
            s = jobs.get().uri("/internal/tasks/{id}", taskId).retrieve().body(TaskStatus.class);
        } catch (HttpClientErrorException.NotFound e) {
            return "the job-service does not know task " + taskId;
        } catch (RestClientException e) {
            throw new Registry.Unavailable("cannot ask the job-service about task " + taskId + ": " + e.getMessage(), e);
        }
        return s == null || s.open() ? null : "task " + taskId + " is " + s.state();
    }
}

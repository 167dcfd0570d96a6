package dev.featherweight.registry;

import dev.featherweight.contracts.jobs.TaskStatus;
import dev.featherweight.service.InternalClients;
import dev.featherweight.service.InternalHttpProperties;
import dev.featherweight.service.JobsApi;
import dev.featherweight.servicesecurity.ServiceCredential;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.client.ClientHttpRequestInitializer;
import org.springframework.stereotype.Component;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.RestClientException;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * The registry's half of cancel-as-a-fence: before an artifact becomes visible, the job-service must still
 * hold its task open (not cancelled, not failed). Asked at completion time, after the last file is stored,
 * so an artifact whose job was cancelled during its upload never becomes visible. The call is an internal
 * one like any other: the typed {@link JobsApi} client, carrying the deployment's service credential, its
 * idempotent read retried after a transient failure.
 */
@Component
public class TaskFence {
    private final JobsApi jobs;

    public TaskFence(@Value("${featherweight.jobs-url}") URI jobsUrl,
                     @Value("${" + ServiceCredential.PROPERTY + ":}") String credential) {
        String header = ServiceCredential.require(credential);
        ClientHttpRequestInitializer withCredential = request -> request.getHeaders().set(ServiceCredential.HEADER, header);
        InternalClients clients = new InternalClients(
                new InternalHttpProperties.Http(Duration.ofSeconds(5), Duration.ofSeconds(30), 3, Duration.ofMillis(200)), List.of(withCredential));
        this.jobs = clients.client(JobsApi.class, clients.restClient(jobsUrl));
    }

    /** Null if the task may complete its artifact, otherwise why not. */
    public String refusal(String taskId) {
        TaskStatus s;
        try {
            s = jobs.task(taskId);
        } catch (HttpClientErrorException.NotFound e) {
            return "the job-service does not know task " + taskId;
        } catch (RestClientException e) {
            throw new Registry.Unavailable("cannot ask the job-service about task " + taskId + ": " + e.getMessage(), e);
        }
        return s == null || s.open() ? null : "task " + taskId + " is " + s.state();
    }
}

package dev.featherweight.contracts;

import dev.featherweight.contracts.jobs.JobState;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

import java.time.Instant;
import java.util.Map;

/**
 * Every Kafka message of the platform. JSON carries {@code "type"} (the record's simple name) and
 * {@code "schema"} (see {@link Json#SCHEMA_VERSION}); {@code messageId} is unique per message and is
 * what consumers deduplicate on. Task events carry the attempt number they belong to: the job-service
 * ignores events of any attempt but the current one (fencing).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.SIMPLE_NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(Message.JobSubmitted.class), @JsonSubTypes.Type(Message.JobCancelled.class),
        @JsonSubTypes.Type(Message.TaskAssigned.class), @JsonSubTypes.Type(Message.TaskStarted.class),
        @JsonSubTypes.Type(Message.TaskProgress.class), @JsonSubTypes.Type(Message.TaskHeartbeat.class),
        @JsonSubTypes.Type(Message.TaskSucceeded.class), @JsonSubTypes.Type(Message.TaskFailed.class),
        @JsonSubTypes.Type(Message.JobStateChanged.class)})
public sealed interface Message {

    String messageId();

    /** Kafka key: keeps one job's (or one task's) messages in order on one partition. */
    @JsonIgnore
    String key();

    /** Events a worker sends about one attempt of one task. */
    sealed interface TaskEvent extends Message {
        String taskId();
        String jobId();
        int attempt();
        default String key() { return taskId(); }
    }

    enum TaskKind { QUANTIZE, EVAL }

    record JobSubmitted(String messageId, String jobId, String tenantId, JobSpec spec, Instant submittedAt) implements Message {
        public String key() { return jobId; }
    }

    record JobCancelled(String messageId, String jobId, String tenantId, Instant at) implements Message {
        public String key() { return jobId; }
    }

    /**
     * job-service → worker. For QUANTIZE, {@code recipe} is set; for EVAL, {@code artifactId} names the
     * artifact to evaluate and {@code eval} what to measure. {@code leaseSeconds}: heartbeat at least
     * three times within it or the task is handed out again.
     */
    record TaskAssigned(String messageId, String taskId, String jobId, String tenantId, int attempt, TaskKind kind,
                        String modelId, Recipe recipe, String artifactId, EvalSpec eval, int leaseSeconds) implements Message {
        public String key() { return taskId; }
    }

    record TaskStarted(String messageId, String taskId, String jobId, int attempt, String worker, String gpu, Instant at)
            implements TaskEvent {}

    /** Progress: block i of n (a transformer block, or a tensor for methods without blocks). */
    record TaskProgress(String messageId, String taskId, String jobId, int attempt, int block, int blocks, String module,
                        double wallSeconds, double secondsLeft, double gpuSeconds) implements TaskEvent {}

    record TaskHeartbeat(String messageId, String taskId, String jobId, int attempt, String worker, Instant at)
            implements TaskEvent {}

    /** Done: the artifact (QUANTIZE) or the artifact that was evaluated (EVAL), metrics as name → value. */
    record TaskSucceeded(String messageId, String taskId, String jobId, int attempt, String artifactId,
                         double wallSeconds, double gpuSeconds, Map<String, Double> metrics) implements TaskEvent {}

    /** {@code retryable}: false when another attempt cannot help (does not fit the GPU, bad model). */
    record TaskFailed(String messageId, String taskId, String jobId, int attempt, String reason, boolean retryable)
            implements TaskEvent {}

    /** job-service → gateway: a job (or one of its tasks) changed; {@code detail} is a human sentence. */
    record JobStateChanged(String messageId, String jobId, String tenantId, JobState state, String taskId, String detail,
                           Instant at) implements Message {
        public String key() { return jobId; }
    }
}

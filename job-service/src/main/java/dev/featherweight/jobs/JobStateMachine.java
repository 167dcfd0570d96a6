package dev.featherweight.jobs;

import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.JobSpec;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.Message.TaskKind;
import dev.featherweight.contracts.Recipe;
import dev.featherweight.contracts.Topics;
import dev.featherweight.contracts.jobs.JobState;
import dev.featherweight.contracts.jobs.TaskState;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The job and task state machine. Every method runs in one database transaction that (1) records the
 * incoming message id, so a redelivered message changes nothing, (2) changes job/task rows, and (3) writes
 * the messages that announce the change to the outbox — so the database and Kafka never disagree: a
 * message is published iff the state change that caused it committed ({@link OutboxPublisher}).
 *
 * <pre>
 * job:  SUBMITTED → RUNNING → SUCCEEDED | FAILED | CANCELLED
 * task: ASSIGNED(attempt n) → RUNNING → SUCCEEDED | FAILED | CANCELLED;  lease expired / retryable failure → ASSIGNED(n+1)
 * </pre>
 * Events of any attempt other than the task's current one are ignored (fencing a worker that was
 * presumed dead but was only slow).
 */
@Service
public class JobStateMachine {
    private static final Logger log = LoggerFactory.getLogger(JobStateMachine.class);

    private final JobRepository jobs;
    private final TaskRepository tasks;
    private final JdbcClient db;
    private final int maxAttempts;
    private final Duration lease;
    private final Duration queueTimeout;
    private final Duration retryBackoff;
    private final MeterRegistry meters;

    public JobStateMachine(JobRepository jobs, TaskRepository tasks, JdbcClient db, JobsProperties settings, MeterRegistry meters) {
        this.jobs = jobs;
        this.tasks = tasks;
        this.db = db;
        this.maxAttempts = settings.maxAttempts();
        this.lease = settings.lease();
        this.queueTimeout = settings.queueTimeout();
        this.retryBackoff = settings.retryBackoff();
        this.meters = meters;
    }

    /**
     * Every transaction that changes a job's rows locks the job row first, so two of them (a claim and a cancel,
     * a lease expiry and a task event) wait for each other instead of deadlocking on task and job rows taken
     * in opposite orders.
     */
    private void lockJob(String jobId) {
        db.sql("select id from jobs where id = ? for update").param(jobId).query(String.class).optional();
    }

    /** Locks the job of a task before the task is loaded (so it is read after the lock); false for an unknown task. */
    private boolean lockJobOfTask(String taskId) {
        String jobId = db.sql("select job_id from tasks where id = ?").param(taskId).query(String.class).optional().orElse(null);
        if (jobId != null) lockJob(jobId);
        return jobId != null;
    }

    /** Records the message id; false if it was seen before (the caller then does nothing). */
    boolean firstDelivery(String messageId) {
        return db.sql("insert into processed_messages(message_id) values (?) on conflict do nothing").param(messageId).update() == 1;
    }

    @Transactional
    public void onCommand(Message message) {
        if (!firstDelivery(message.messageId())) {
            log.info("duplicate command {} ignored", message.messageId());
            return;
        }
        switch (message) {
            case Message.JobSubmitted s -> submit(s);
            case Message.JobCancelled c -> cancel(c);
            default -> log.warn("unexpected command {}", message);
        }
    }

    private void submit(Message.JobSubmitted s) {
        MDC.put("jobId", s.jobId());
        try {
            if (jobs.existsById(s.jobId())) { // the same job submitted again (Idempotency-Key retry): nothing new
                log.info("job {} already known", s.jobId());
                return;
            }
            List<String> problems = s.spec().problems();
            JobEntity job = new JobEntity();
            job.id = s.jobId();
            job.tenantId = s.tenantId();
            job.modelName = s.spec().modelId();
            job.spec = Json.MAPPER.writeValueAsString(s.spec());
            job.submittedAt = s.submittedAt();
            job.state = JobState.SUBMITTED;
            if (!problems.isEmpty()) { // the gateway validates first; this protects against other producers
                job.state = JobState.FAILED;
                job.error = "invalid job: " + String.join("; ", problems);
                job.finishedAt = Instant.now();
                jobs.save(job);
                announce(job, null, job.error);
                return;
            }
            jobs.save(job);
            int seq = 0;
            for (Recipe recipe : s.spec().recipes()) {
                TaskEntity t = new TaskEntity();
                t.id = s.jobId() + "-q" + seq;
                t.jobId = job.id;
                t.seq = seq++;
                t.kind = TaskKind.QUANTIZE;
                t.recipe = Json.MAPPER.writeValueAsString(recipe);
                t.label = recipe.label();
                t.maxAttempts = maxAttempts;
                assign(job, t, 1, Duration.ZERO);
            }
            announce(job, null, "planned " + seq + " quantization task(s)");
            log.info("job {} submitted with {} task(s)", job.id, seq);
            if (seq == 0) { // a recommendation whose every candidate was pruned: the answer is already known, nothing to run
                finish(job, JobState.SUCCEEDED, null);
                jobs.save(job); // save() above merged a copy: this one is not managed
            }
        } finally {
            MDC.remove("jobId");
        }
    }

    private void cancel(Message.JobCancelled c) {
        cancel(c.jobId(), c.tenantId());
    }

    public enum CancelOutcome { CANCELLED, NOT_FOUND, ALREADY_FINISHED }

    /**
     * Cancel is a fence: once this commits, no task of the job can be claimed ({@link #claim}), a running
     * one is told to stop at its next block boundary (its fencing call sees the task closed), and the
     * registry refuses to complete its artifact. A job that already finished is left as it is.
     */
    @Transactional
    public CancelOutcome cancel(String jobId, String tenantId) {
        lockJob(jobId);
        JobEntity job = jobs.findById(jobId).filter(j -> j.tenantId.equals(tenantId)).orElse(null);
        if (job == null) return CancelOutcome.NOT_FOUND;
        if (job.terminal()) return CancelOutcome.ALREADY_FINISHED;
        Instant now = Instant.now();
        for (TaskEntity t : tasks.findByJobIdOrderBySeq(job.id))
            if (t.open()) {
                t.state = TaskState.CANCELLED;
                t.leaseUntil = null;
                t.finishedAt = now;
            }
        finish(job, JobState.CANCELLED, "cancelled by the user");
        jobs.saveAndFlush(job); // the version check makes a concurrent cancel or task event of this job roll back, not double-count
        return CancelOutcome.CANCELLED;
    }

    /**
     * A worker asks to run this attempt of the task. Exactly one worker gets it: the task must be ASSIGNED at
     * this attempt and its job not finished, and the row's version makes a concurrent claim fail. So a
     * TaskAssigned offered twice (re-offer after a restart, redelivery) runs once, and a cancelled job's
     * queued tasks never start.
     */
    @Transactional
    public boolean claim(String taskId, int attempt, String worker, String gpu) {
        if (!lockJobOfTask(taskId)) return false;
        TaskEntity t = tasks.findById(taskId).orElseThrow();
        if (t.attempt != attempt || t.state != TaskState.ASSIGNED) return false;
        JobEntity job = jobs.findById(t.jobId).orElseThrow();
        if (job.terminal()) return false;
        start(job, t, worker, gpu, Instant.now());
        tasks.saveAndFlush(t);
        return true;
    }

    private void start(JobEntity job, TaskEntity t, String worker, String gpu, Instant now) {
        t.state = TaskState.RUNNING;
        t.worker = worker;
        t.gpu = gpu;
        t.startedAt = now;
        t.leaseUntil = now.plus(lease);
        if (job.state == JobState.SUBMITTED) {
            job.state = JobState.RUNNING;
            job.startedAt = now;
        }
        announce(job, t, t.label + ": started on " + worker + " (" + gpu + "), attempt " + t.attempt);
    }

    @Transactional
    public void onTaskEvent(Message.TaskEvent event) {
        if (!firstDelivery(event.messageId())) return;
        lockJobOfTask(event.taskId());
        TaskEntity t = tasks.findById(event.taskId()).orElse(null);
        if (t == null) {
            log.warn("event for unknown task {}", event.taskId());
            return;
        }
        MDC.put("jobId", t.jobId);
        MDC.put("taskId", t.id);
        try {
            if (event instanceof Message.TaskStarted s && t.state == TaskState.RUNNING && s.worker().equals(t.worker)) return; // claimed already
            if (event.attempt() != t.attempt || !t.open()) {
                log.info("ignored {} of attempt {} (task {} is at attempt {}, {})", event.getClass().getSimpleName(), event.attempt(), t.id, t.attempt, t.state);
                return;
            }
            JobEntity job = jobs.findById(t.jobId).orElseThrow();
            Instant now = Instant.now();
            switch (event) {
                case Message.TaskStarted s -> start(job, t, s.worker(), s.gpu(), now);
                case Message.TaskHeartbeat h -> t.leaseUntil = now.plus(lease);
                case Message.TaskProgress p -> {
                    t.leaseUntil = now.plus(lease);
                    t.block = p.block();
                    t.blocks = p.blocks();
                    t.module = p.module();
                    t.wallSeconds = p.wallSeconds();
                    t.secondsLeft = p.secondsLeft();
                    t.gpuSeconds = p.gpuSeconds();
                    announce(job, t, t.label + ": " + p.block() + "/" + p.blocks() + " " + p.module());
                }
                case Message.TaskSucceeded s -> succeeded(job, t, s);
                case Message.TaskFailed f -> failed(job, t, f.reason(), f.retryable(), true);
            }
        } finally {
            MDC.remove("jobId");
            MDC.remove("taskId");
        }
    }

    private void succeeded(JobEntity job, TaskEntity t, Message.TaskSucceeded s) {
        t.state = TaskState.SUCCEEDED;
        t.finishedAt = Instant.now();
        t.leaseUntil = null;
        t.wallSeconds = s.wallSeconds();
        t.gpuSeconds = s.gpuSeconds();
        t.secondsLeft = 0.0;
        if (t.blocks != null) t.block = t.blocks;
        t.metrics = Json.MAPPER.writeValueAsString(s.metrics());
        if (t.kind == TaskKind.QUANTIZE) t.outputArtifactId = s.artifactId();
        Timer.builder("featherweight.task.duration").tag("kind", t.kind.name()).register(meters)
                .record(Duration.ofMillis((long) (s.wallSeconds() * 1000)));
        announce(job, t, t.label + ": succeeded" + (s.artifactId() == null ? "" : " → artifact " + s.artifactId()));
        JobSpec spec = Json.MAPPER.readValue(job.spec, JobSpec.class);
        if (t.kind == TaskKind.QUANTIZE && spec.eval() != null) {
            TaskEntity e = new TaskEntity();
            e.id = job.id + "-e" + t.seq;
            e.jobId = job.id;
            e.seq = 1000 + t.seq;
            e.kind = TaskKind.EVAL;
            e.label = "eval of " + t.label;
            e.inputArtifactId = s.artifactId();
            e.parentTaskId = t.id;
            e.maxAttempts = maxAttempts;
            assign(job, e, 1, Duration.ZERO);
            return;
        }
        completeIfDone(job);
    }

    /**
     * A sweep runs to its end: a failed recipe does not stop the others (their artifacts and numbers are
     * what the user came for). When every task is done the job SUCCEEDED, or FAILED with the first failure.
     */
    private void completeIfDone(JobEntity job) {
        List<TaskEntity> all = tasks.findByJobIdOrderBySeq(job.id);
        if (job.terminal() || all.stream().anyMatch(TaskEntity::open)) return;
        TaskEntity failed = all.stream().filter(x -> x.state == TaskState.FAILED).findFirst().orElse(null);
        if (failed != null && Json.MAPPER.readValue(job.spec, JobSpec.class).recommend() != null) {
            // a recommendation answers from the candidates that were measured; it fails only when none was
            boolean anyMeasured = all.stream().anyMatch(x -> x.kind == TaskKind.EVAL && x.state == TaskState.SUCCEEDED);
            if (anyMeasured) finish(job, JobState.SUCCEEDED, null);
            else finish(job, JobState.FAILED, "every candidate failed, so nothing could be recommended; " + failed.label + " failed after "
                    + failed.attempt + " attempt(s): " + failed.error);
            return;
        }
        if (failed == null) finish(job, JobState.SUCCEEDED, null);
        else finish(job, JobState.FAILED, failed.label + " failed after " + failed.attempt + " attempt(s): " + failed.error);
    }

    /**
     * A deterministic failure (retryable false: bad input, does not fit, validation) fails the task at once
     * with its reason; a transient one is retried after a backoff that doubles per attempt, and a dead
     * worker's task (lease expired) is handed out again at once.
     */
    private void failed(JobEntity job, TaskEntity t, String reason, boolean retryable, boolean backoff) {
        if (retryable && t.attempt < t.maxAttempts) {
            Duration delay = backoff ? retryBackoff.multipliedBy(1L << Math.min(10, t.attempt - 1)) : Duration.ZERO;
            log.warn("task {} attempt {} failed ({}); retrying in {} s", t.id, t.attempt, reason, delay.toMillis() / 1000.0);
            t.error = reason;
            assign(job, t, t.attempt + 1, delay);
            return;
        }
        t.state = TaskState.FAILED;
        t.error = reason;
        t.finishedAt = Instant.now();
        t.leaseUntil = null;
        announce(job, t, t.label + ": failed after " + t.attempt + " attempt(s): " + reason);
        completeIfDone(job);
    }

    /** Called by the lease sweeper for a task whose lease ran out: the worker stopped heartbeating. */
    @Transactional
    public void leaseExpired(String taskId, int attempt) {
        lockJobOfTask(taskId);
        TaskEntity t = tasks.findById(taskId).orElse(null);
        if (t == null || t.attempt != attempt || !t.open() || t.leaseUntil == null || t.leaseUntil.isAfter(Instant.now())) return;
        JobEntity job = jobs.findById(t.jobId).orElseThrow();
        meters.counter("featherweight.task.lease.expired", "state", t.state.name()).increment();
        failed(job, t, t.state == TaskState.ASSIGNED
                ? "not started by any worker within " + queueTimeout.toSeconds() + " s of being assigned"
                : "lease expired: no heartbeat from " + t.worker + " for " + lease.toSeconds() + " s", true, false);
    }

    /**
     * A task waits in Kafka until a worker has a free slot (workers pause their consumer while busy), so an
     * ASSIGNED task gets the long queue timeout — it only catches a worker that took the message and died
     * before starting — and the short heartbeat lease begins when the task starts.
     */
    private void assign(JobEntity job, TaskEntity t, int attempt, Duration delay) {
        Instant now = Instant.now();
        t.attempt = attempt;
        t.state = TaskState.ASSIGNED;
        t.leaseUntil = now.plus(delay).plus(queueTimeout);
        t.worker = null;
        if (delay.isZero()) offer(job, t);
        else { // offered by TaskOffers once the backoff is over
            t.offeredAt = null;
            t.retryAt = now.plus(delay);
        }
        tasks.save(t);
        if (attempt > 1) announce(job, t, t.label + ": handed out again, attempt " + attempt
                + (delay.isZero() ? "" : " in " + delay.toMillis() / 1000.0 + " s"));
    }

    /** Writes the current attempt's TaskAssigned to the outbox (again, if it was offered before). */
    private void offer(JobEntity job, TaskEntity t) {
        TaskKind kind = t.kind;
        JobSpec spec = Json.MAPPER.readValue(job.spec, JobSpec.class);
        Recipe recipe = t.recipe == null ? null : Json.MAPPER.readValue(t.recipe, Recipe.class);
        Message.TaskAssigned m = new Message.TaskAssigned(UUID.randomUUID().toString(), t.id, job.id, job.tenantId, t.attempt, kind,
                job.modelName, recipe, t.inputArtifactId, kind == TaskKind.EVAL ? spec.eval() : null, (int) lease.toSeconds());
        outbox(kind == TaskKind.QUANTIZE ? Topics.TASKS_QUANTIZE : Topics.TASKS_EVAL, m);
        t.offeredAt = Instant.now();
        t.retryAt = null;
    }

    /**
     * Offers an ASSIGNED task again when its backoff is over (never offered yet) or when its last offer is
     * older than {@code offeredBefore} — the Kafka message may be gone (a broker that lost its log, a
     * restart of the whole platform). A second copy of a message that did survive is harmless: only one
     * worker can {@link #claim} the attempt.
     */
    @Transactional
    public boolean reoffer(String taskId, Instant offeredBefore) {
        lockJobOfTask(taskId);
        TaskEntity t = tasks.findById(taskId).orElse(null);
        Instant now = Instant.now();
        if (t == null || t.state != TaskState.ASSIGNED) return false;
        boolean due = t.offeredAt == null ? t.retryAt == null || !t.retryAt.isAfter(now) : t.offeredAt.isBefore(offeredBefore);
        if (!due) return false;
        JobEntity job = jobs.findById(t.jobId).orElseThrow();
        if (job.terminal()) return false;
        boolean again = t.offeredAt != null;
        offer(job, t);
        t.leaseUntil = now.plus(queueTimeout);
        if (again) log.info("task {} attempt {} offered again", t.id, t.attempt);
        return true;
    }

    private void finish(JobEntity job, JobState state, String error) {
        job.state = state;
        job.error = error;
        job.finishedAt = Instant.now();
        announce(job, null, error == null ? "job " + state.name().toLowerCase() : error);
        meters.counter("featherweight.jobs.finished", "state", state.name()).increment();
        log.info("job {} {}{}", job.id, state, error == null ? "" : ": " + error);
    }

    private void announce(JobEntity job, TaskEntity t, String detail) {
        outbox(Topics.JOB_EVENTS, new Message.JobStateChanged(UUID.randomUUID().toString(), job.id, job.tenantId, job.state,
                t == null ? null : t.id, detail, Instant.now()));
    }

    private void outbox(String topic, Message m) {
        db.sql("insert into outbox(topic, msg_key, payload) values (?, ?, ?)").params(topic, m.key(), Json.write(m)).update();
    }
}

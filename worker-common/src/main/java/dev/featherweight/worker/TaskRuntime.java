package dev.featherweight.worker;

import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.jobs.TaskClaim;
import dev.featherweight.contracts.jobs.TaskStatus;
import dev.featherweight.service.JobsApi;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.cloud.stream.binding.BindingsLifecycleController;
import org.springframework.web.client.HttpClientErrorException;

import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs tasks off the Kafka poll thread. The binding's consumer hands a task to an executor and returns at
 * once, so the poll loop keeps running (no max.poll.interval overrun, no rebalance, no redelivery during a
 * task of an hour); when all slots are busy the binding is paused — the consumer keeps polling but gets no
 * records — and resumed when a slot frees. Around each task: a fencing check (is this attempt still the
 * current one?) that claims the attempt in the job-service, heartbeats every lease/3, and TaskSucceeded or
 * TaskFailed.
 */
public class TaskRuntime implements Consumer<byte[]>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TaskRuntime.class);

    private final TaskHandler handler;
    private final Events events;
    private final JobsApi jobs;
    private final ObjectProvider<BindingsLifecycleController> bindings;
    private final String bindingName;
    private final String worker;
    private final String gpu;
    private final Semaphore slots;
    private final ExecutorService executor;
    private final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "heartbeats");
        t.setDaemon(true);
        return t;
    });
    private final MeterRegistry meters;
    private final java.time.Duration claimRetry = java.time.Duration.ofMinutes(2);
    private volatile boolean paused;
    private volatile boolean closing;

    public TaskRuntime(TaskHandler handler, Events events, JobsApi jobs, ObjectProvider<BindingsLifecycleController> bindings,
                       String bindingName, String worker, String gpu, int concurrency, MeterRegistry meters) {
        this.handler = handler;
        this.events = events;
        this.jobs = jobs;
        this.bindings = bindings;
        this.bindingName = bindingName;
        this.worker = worker;
        this.gpu = gpu;
        this.slots = new Semaphore(concurrency);
        this.executor = Executors.newFixedThreadPool(concurrency, r -> new Thread(r, worker + "-task"));
        this.meters = meters;
    }

    @Override
    public void accept(byte[] payload) {
        if (!(Json.read(payload) instanceof Message.TaskAssigned task)) return;
        if (closing) throw new IllegalStateException("worker " + worker + " is shutting down"); // not acknowledged → redelivered elsewhere
        slots.acquireUninterruptibly(); // never blocks long: the binding is paused while no slot is free
        if (slots.availablePermits() == 0) pause();
        executor.execute(() -> {
            try {
                run(task);
            } finally {
                slots.release();
                resume();
            }
        });
    }

    private void run(Message.TaskAssigned task) {
        MDC.put("jobId", task.jobId());
        MDC.put("taskId", task.taskId());
        ScheduledFuture<?> beat = null;
        TaskContext context = new TaskContext(task, events, () -> fence(task));
        try {
            if (!claim(task)) { // cancelled, superseded, or a second copy of the message
                log.info("skipping task {} attempt {}: the job-service did not hand it to this worker", task.taskId(), task.attempt());
                meters.counter("featherweight.worker.task.skipped").increment();
                return;
            }
            log.info("task {} attempt {} started: {}", task.taskId(), task.attempt(), task.recipe() == null ? "eval of " + task.artifactId() : task.recipe().label());
            long period = Math.max(200, task.leaseSeconds() * 1000L / 3);
            Thread taskThread = Thread.currentThread();
            beat = heartbeats.scheduleAtFixedRate(() -> heartbeat(task, context), period, period, TimeUnit.MILLISECONDS);
            TaskHandler.Outcome outcome = handler.run(task, context);
            context.checkStop();
            events.send(new Message.TaskSucceeded(UUID.randomUUID().toString(), task.taskId(), task.jobId(), task.attempt(),
                    outcome.artifactId(), context.wallSeconds(), outcome.gpuSeconds(), outcome.metrics()));
            Timer.builder("featherweight.worker.task").tag("kind", task.kind().name()).tag("outcome", "succeeded").register(meters)
                    .record((long) (context.wallSeconds() * 1000), TimeUnit.MILLISECONDS);
            log.info("task {} attempt {} succeeded in {} s", task.taskId(), task.attempt(), String.format("%.2f", context.wallSeconds()));
        } catch (TaskContext.Stopped e) {
            log.warn("task {} attempt {} stopped: {}", task.taskId(), task.attempt(), e.getMessage());
            meters.counter("featherweight.worker.task.stopped").increment();
        } catch (Throwable e) {
            if (closing || Thread.currentThread().isInterrupted()) {
                log.warn("task {} attempt {} abandoned at shutdown: {}", task.taskId(), task.attempt(), e.toString());
                return; // the lease expires and another worker takes it
            }
            boolean retryable = FailureKind.retryable(e);
            String reason = e instanceof TaskFailure ? e.getMessage() : e.toString();
            log.warn("task {} attempt {} failed ({}): {}", task.taskId(), task.attempt(), retryable ? "retryable" : "final", reason, e);
            meters.counter("featherweight.worker.task.failed", "retryable", String.valueOf(retryable)).increment();
            try {
                events.send(new Message.TaskFailed(UUID.randomUUID().toString(), task.taskId(), task.jobId(), task.attempt(), reason, retryable));
            } catch (RuntimeException sendFailed) {
                log.error("could not report the failure of {}; its lease will expire", task.taskId(), sendFailed);
            }
        } finally {
            if (beat != null) beat.cancel(false);
            MDC.clear();
        }
    }

    /**
     * Claims the attempt, riding out a job-service or database that is briefly away (a restart): this worker
     * already took the message off Kafka, so giving up at once would leave the task waiting for a re-offer.
     */
    private boolean claim(Message.TaskAssigned task) throws InterruptedException {
        long deadline = System.nanoTime() + claimRetry.toNanos();
        for (long pauseMillis = 500; ; pauseMillis = Math.min(8_000, pauseMillis * 2)) {
            try {
                jobs.claim(task.taskId(), new TaskClaim(task.attempt(), worker, gpu));
                return true;
            } catch (HttpClientErrorException.Conflict | HttpClientErrorException.NotFound e) {
                return false;
            } catch (RuntimeException e) {
                if (closing || System.nanoTime() + pauseMillis * 1_000_000 > deadline) throw e;
                log.warn("claim of {} attempt {} failed, again in {} ms: {}", task.taskId(), task.attempt(), pauseMillis, e.toString());
                Thread.sleep(pauseMillis);
            }
        }
    }

    /** The fencing call at a block boundary: a reason to stop if the attempt is no longer this worker's to run. */
    private String fence(Message.TaskAssigned task) {
        try {
            TaskStatus s = status(task.taskId());
            return s == null || !s.open() || s.attempt() != task.attempt() ? "job-service says " + s + " (cancelled or superseded)" : null;
        } catch (RuntimeException e) { // the job-service is unreachable for now: go on, the heartbeat or the next block asks again
            log.warn("fencing check of {} failed: {}", task.taskId(), e.toString());
            return null;
        }
    }

    private void heartbeat(Message.TaskAssigned task, TaskContext context) {
        try {
            TaskStatus s = status(task.taskId());
            if (s == null || !s.open() || s.attempt() != task.attempt()) {
                context.stopReason = "job-service says " + s + " (cancelled or superseded)";
                return;
            }
            events.send(new Message.TaskHeartbeat(UUID.randomUUID().toString(), task.taskId(), task.jobId(), task.attempt(), worker, Instant.now()));
        } catch (RuntimeException e) {
            log.warn("heartbeat of {} failed: {}", task.taskId(), e.toString());
        }
    }

    /** Null when the job-service does not know the task. */
    private TaskStatus status(String taskId) {
        try {
            return jobs.task(taskId);
        } catch (HttpClientErrorException.NotFound e) {
            return null;
        }
    }

    private synchronized void pause() {
        BindingsLifecycleController c = bindings.getIfAvailable();
        if (c != null && !paused) {
            c.pause(bindingName);
            paused = true;
        }
    }

    private synchronized void resume() {
        BindingsLifecycleController c = bindings.getIfAvailable();
        if (c != null && paused && !closing) {
            c.resume(bindingName);
            paused = false;
        }
    }

    /** Context shutdown: interrupt running tasks and send nothing more (the job-service re-leases them). */
    @Override
    public void close() throws InterruptedException {
        closing = true;
        heartbeats.shutdownNow();
        executor.shutdownNow();
        executor.awaitTermination(2, TimeUnit.SECONDS); // bounded: a task still running is handed back by its lease
    }
}

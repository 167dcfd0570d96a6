package dev.featherweight.worker;

import dev.featherweight.contracts.Message;

import java.util.UUID;

/** Handed to a {@link TaskHandler}: progress reporting and the "should I stop?" question. */
public final class TaskContext {
    private final Message.TaskAssigned task;
    private final Events events;
    private final Fence fence;
    private final long startNanos = System.nanoTime();
    volatile String stopReason;
    private long lastProgressNanos;

    /** The worker's fencing call: why this attempt must stop now, or null to go on. */
    @FunctionalInterface
    interface Fence {
        String stopReason();
    }

    /** For a handler run outside a worker (tests): no fencing call, only the heartbeat's stop reason. */
    public TaskContext(Message.TaskAssigned task, Events events) {
        this(task, events, () -> null);
    }

    TaskContext(Message.TaskAssigned task, Events events, Fence fence) {
        this.task = task;
        this.events = events;
        this.fence = fence;
    }

    public double wallSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /**
     * Block {@code block} of {@code blocks} is done. Sends a TaskProgress (at most ~4 per second, always the
     * last) with the ETA extrapolated from the wall time so far. Throws if the task should stop: the fencing
     * call runs at every block boundary, so a cancelled job's task stops after the block it is in.
     */
    public void progress(int block, int blocks, String module, double gpuSeconds) throws TaskFailure {
        checkStop();
        String fenced = fence.stopReason();
        if (fenced != null) stopReason = fenced;
        checkStop();
        long now = System.nanoTime();
        if (block < blocks && now - lastProgressNanos < 250_000_000L) return;
        lastProgressNanos = now;
        double wall = wallSeconds();
        double left = block == 0 ? 0 : wall / block * (blocks - block);
        events.send(new Message.TaskProgress(UUID.randomUUID().toString(), task.taskId(), task.jobId(), task.attempt(), block, blocks,
                module, wall, left, gpuSeconds));
    }

    /** Throws when the job was cancelled, this attempt was superseded, or the worker is shutting down. */
    public void checkStop() throws TaskFailure {
        if (Thread.currentThread().isInterrupted()) stopReason = "worker shutting down";
        if (stopReason != null) throw new Stopped(stopReason);
    }

    /** Not a failure to report: the job-service already knows (cancel, newer attempt) or will see the lease expire. */
    public static final class Stopped extends TaskFailure {
        Stopped(String reason) {
            super(reason, true);
        }
    }
}

package dev.featherweight.jobs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.time.Instant;

/** Finds tasks whose lease ran out (the worker died or hangs) and hands them out again, or fails them after the last attempt. */
@Component
public class LeaseSweeper {
    private static final Logger log = LoggerFactory.getLogger(LeaseSweeper.class);
    private final TaskRepository tasks;
    private final JobStateMachine machine;

    public LeaseSweeper(TaskRepository tasks, JobStateMachine machine) {
        this.tasks = tasks;
        this.machine = machine;
    }

    @Scheduled(fixedDelayString = "${featherweight.jobs.lease-sweep:1s}")
    public void sweep() {
        for (TaskEntity t : tasks.expired(Instant.now())) {
            try {
                log.warn("lease of task {} attempt {} expired", t.id, t.attempt);
                machine.leaseExpired(t.id, t.attempt);
            } catch (RuntimeException e) { // optimistic lock: an event for the task arrived meanwhile
                log.info("lease expiry of {} skipped: {}", t.id, e.toString());
            }
        }
    }
}

package dev.featherweight.jobs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * PostgreSQL, not Kafka, is the source of truth for waiting work. At startup every ASSIGNED task is offered
 * again (a platform restarted on an empty broker, or a broker that lost its log, must not leave queued
 * tasks waiting for the queue timeout); periodically, tasks whose retry backoff is over are offered, and so
 * are tasks whose last offer is older than {@code reoffer-after}. Unpublished outbox rows need nothing
 * here: the {@link OutboxPublisher} sends whatever is unpublished, whenever it runs.
 */
@Component
public class TaskOffers {
    private static final Logger log = LoggerFactory.getLogger(TaskOffers.class);
    private final JdbcClient db;
    private final JobStateMachine machine;
    private final Duration reofferAfter;

    public TaskOffers(JdbcClient db, JobStateMachine machine, JobsProperties settings) {
        this.db = db;
        this.machine = machine;
        this.reofferAfter = settings.reofferAfter();
    }

    @EventListener(ApplicationReadyEvent.class)
    public void offerEverythingAssigned() {
        int n = offer(Instant.now().plusSeconds(1)); // every offer so far is older than that
        if (n > 0) log.warn("offered {} assigned task(s) again at startup", n);
    }

    @Scheduled(initialDelayString = "${featherweight.jobs.reoffer-sweep:1s}", fixedDelayString = "${featherweight.jobs.reoffer-sweep:1s}")
    public void offerDue() {
        offer(Instant.now().minus(reofferAfter));
    }

    private int offer(Instant offeredBefore) {
        List<String> due = db.sql("""
                select id from tasks where state = 'ASSIGNED'
                  and ((offered_at is null and (retry_at is null or retry_at <= now())) or offered_at < ?)
                order by job_id, seq""").param(Timestamp.from(offeredBefore)).query(String.class).list();
        int offered = 0;
        for (String id : due) {
            try {
                if (machine.reoffer(id, offeredBefore)) offered++;
            } catch (RuntimeException e) { // optimistic lock: a worker claimed it or an event changed it meanwhile
                log.info("offer of task {} skipped: {}", id, e.toString());
            }
        }
        return offered;
    }
}

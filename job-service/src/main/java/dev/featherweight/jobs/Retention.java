package dev.featherweight.jobs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;

/**
 * Deletes what only guards against redelivery once redelivery cannot happen any more: published outbox
 * rows and processed-message ids older than their retention (default 7 days, Kafka's default log
 * retention: an older message cannot be delivered again). In batches, so no statement runs long.
 */
@Component
public class Retention {
    private static final Logger log = LoggerFactory.getLogger(Retention.class);
    private final JdbcClient db;
    private final Duration outbox;
    private final Duration processedMessages;

    @Autowired
    public Retention(JdbcClient db, JobsProperties settings) {
        this(db, settings.retention());
    }

    Retention(JdbcClient db, JobsProperties.RetentionPeriods periods) {
        this.db = db;
        this.outbox = periods.outbox();
        this.processedMessages = periods.processedMessages();
    }

    public record Purged(long outboxRows, long processedMessages) {}

    @Scheduled(fixedDelayString = "${featherweight.jobs.retention.sweep:10m}", initialDelayString = "${featherweight.jobs.retention.sweep:10m}")
    public Purged purge() {
        Instant now = Instant.now();
        long rows = inBatches("delete from outbox where id in (select id from outbox where published_at < ? limit 5000)", now.minus(outbox));
        long ids = inBatches("delete from processed_messages where message_id in (select message_id from processed_messages where processed_at < ? limit 5000)",
                now.minus(processedMessages));
        if (rows + ids > 0) log.info("retention: deleted {} published outbox row(s) and {} processed message id(s)", rows, ids);
        return new Purged(rows, ids);
    }

    private long inBatches(String sql, Instant before) {
        long total = 0;
        for (int n; (n = db.sql(sql).param(Timestamp.from(before)).update()) > 0; ) total += n;
        return total;
    }
}

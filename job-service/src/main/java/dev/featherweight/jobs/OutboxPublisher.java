package dev.featherweight.jobs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Publishes the outbox in id order and marks rows published only after Kafka acknowledged them (acks=all).
 * A crash between the send and the update re-sends the row: delivery is at least once, and every consumer
 * deduplicates on the message id.
 *
 * <p>No lock and no transaction is held while Kafka is awaited: rows are read and marked in short
 * auto-committed statements. With several job-service replicas, one of them publishes at a time — it
 * holds a PostgreSQL session advisory lock on a connection of its own, which the server releases when
 * that session ends (the replica died or lost the database) — so the outbox keeps one global order and
 * every job's events reach Kafka in the order they were committed. (Row claims with {@code for update
 * skip locked} would let two replicas publish at once, but then a later event of a job could overtake an
 * earlier one that the other replica is still sending.) The other replicas stay ready to take over.
 */
@Component
public class OutboxPublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OutboxPublisher.class);
    /** pg advisory lock key of the outbox publisher ("fw-outbox"). */
    static final long LEADER_LOCK = 0x66772d6f7574626fL;

    private final JdbcClient db;
    private final DataSource dataSource;
    private final KafkaTemplate<String, String> kafka;
    private Connection leadership; // the session holding LEADER_LOCK while this replica publishes

    public OutboxPublisher(JdbcClient db, DataSource dataSource, KafkaTemplate<String, String> kafka) {
        this.db = db;
        this.dataSource = dataSource;
        this.kafka = kafka;
    }

    record Row(long id, String topic, String msgKey, String payload) {}

    @Scheduled(fixedDelayString = "${featherweight.jobs.outbox-poll:100ms}")
    public synchronized void publish() {
        try {
            if (!leader()) return;
            while (publishBatch()) { /* drain */ }
        } catch (RuntimeException e) {
            log.warn("outbox publishing failed, will retry: {}", e.toString());
        }
    }

    /** True while this replica holds the publisher's advisory lock (taken if free; re-taken after the session was lost). */
    synchronized boolean leader() {
        try {
            if (leadership != null && leadership.isValid(2)) return true;
            releaseLeadership();
            Connection c = dataSource.getConnection();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select pg_try_advisory_lock(" + LEADER_LOCK + ")")) {
                if (rs.next() && rs.getBoolean(1)) {
                    leadership = c;
                    log.info("this job-service publishes the outbox");
                    return true;
                }
            }
            c.close();
            return false;
        } catch (SQLException e) {
            releaseLeadership();
            log.warn("outbox leadership unknown (database unreachable?): {}", e.toString());
            return false;
        }
    }

    private boolean publishBatch() {
        List<Row> rows = db.sql("select id, topic, msg_key, payload from outbox where published_at is null order by id limit 200")
                .query(Row.class).list();
        if (rows.isEmpty()) return false;
        List<CompletableFuture<?>> sends = rows.stream().<CompletableFuture<?>>map(r -> kafka.send(r.topic(), r.msgKey(), r.payload())).toList();
        try {
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("Kafka did not acknowledge outbox rows " + rows.getFirst().id() + ".." + rows.getLast().id(), e);
        }
        db.sql("update outbox set published_at = now() where id in (:ids)").param("ids", rows.stream().map(Row::id).toList()).update();
        return rows.size() == 200;
    }

    public long unpublished() {
        return db.sql("select count(*) from outbox where published_at is null").query(Long.class).single();
    }

    private synchronized void releaseLeadership() {
        if (leadership == null) return;
        try {
            leadership.close(); // ends the session: PostgreSQL releases the advisory lock
        } catch (SQLException ignored) {
            // the session is gone already
        }
        leadership = null;
    }

    @Override
    public void close() {
        releaseLeadership();
    }
}

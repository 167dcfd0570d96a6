package dev.featherweight.jobs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Publishes the outbox in id order and marks rows published only after Kafka acknowledged them (acks=all).
 * A crash between the send and the update re-sends the row: delivery is at least once, and every consumer
 * deduplicates on the message id. {@code for update skip locked} lets several job-service replicas poll.
 */
@Component
public class OutboxPublisher {
    private static final Logger log = LoggerFactory.getLogger(OutboxPublisher.class);

    private final JdbcClient db;
    private final KafkaTemplate<String, String> kafka;
    private final TransactionTemplate tx;

    public OutboxPublisher(JdbcClient db, KafkaTemplate<String, String> kafka, TransactionTemplate tx) {
        this.db = db;
        this.kafka = kafka;
        this.tx = tx;
    }

    record Row(long id, String topic, String msgKey, String payload) {}

    @Scheduled(fixedDelayString = "${featherweight.jobs.outbox-poll:100ms}")
    public void publish() {
        try {
            while (Boolean.TRUE.equals(tx.execute(s -> publishBatch()))) { /* drain */ }
        } catch (RuntimeException e) {
            log.warn("outbox publishing failed, will retry: {}", e.toString());
        }
    }

    private boolean publishBatch() {
        List<Row> rows = db.sql("select id, topic, msg_key, payload from outbox where published_at is null order by id limit 200 for update skip locked")
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
}

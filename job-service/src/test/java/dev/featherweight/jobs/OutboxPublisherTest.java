package dev.featherweight.jobs;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;
import org.springframework.transaction.support.TransactionTemplate;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The outbox is why the database and Kafka never disagree: a message is written in the transaction of the
 * state it announces, and a row is marked published only after Kafka acknowledged it. Here Kafka first
 * refuses (nothing is marked, nothing is lost), then accepts (everything goes out once, in order).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OutboxPublisherTest {
    EmbeddedPostgres pg;
    JdbcClient db;
    DataSource ds;
    TransactionTemplate tx;

    /** A KafkaTemplate whose broker is a switch: up (acknowledges, records) or down (fails every send). */
    static final class SwitchableKafka extends KafkaTemplate<String, String> {
        boolean up;
        final List<ProducerRecord<String, String>> acknowledged = new ArrayList<>();

        SwitchableKafka() {
            super(new DefaultKafkaProducerFactory<>(Map.of()));
        }

        @Override
        public CompletableFuture<SendResult<String, String>> send(String topic, String key, String value) {
            if (!up) return CompletableFuture.failedFuture(new org.apache.kafka.common.errors.TimeoutException("broker down"));
            ProducerRecord<String, String> r = new ProducerRecord<>(topic, key, value);
            acknowledged.add(r);
            return CompletableFuture.completedFuture(new SendResult<>(r, new RecordMetadata(new TopicPartition(topic, 0), acknowledged.size(), 0, 0, 0, 0)));
        }
    }

    @BeforeAll
    void database() throws Exception {
        pg = EmbeddedPostgres.builder().start();
        ds = pg.getPostgresDatabase();
        Flyway.configure().dataSource(ds).locations("classpath:db/jobs").load().migrate();
        db = JdbcClient.create(ds);
        tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
    }

    @AfterAll
    void stop() throws Exception {
        pg.close();
    }

    @BeforeEach
    void empty() {
        db.sql("delete from outbox").update();
    }

    @Test
    void rowsArePublishedOnlyAfterTheAcknowledgementAndInOrder() {
        for (int i = 0; i < 5; i++) db.sql("insert into outbox(topic, msg_key, payload) values ('t', ?, ?)").params("k" + i, "m" + i).update();
        SwitchableKafka kafka = new SwitchableKafka();
        try (OutboxPublisher publisher = new OutboxPublisher(db, ds, kafka)) { // closed: the next test's publisher can lead
            publisher.publish(); // broker down
            assertThat(publisher.unpublished()).isEqualTo(5);
            assertThat(kafka.acknowledged).isEmpty();

            kafka.up = true;
            publisher.publish();
            assertThat(publisher.unpublished()).isZero();
            assertThat(kafka.acknowledged).extracting(ProducerRecord::value).containsExactly("m0", "m1", "m2", "m3", "m4");

            publisher.publish(); // nothing left: nothing sent twice
            assertThat(kafka.acknowledged).hasSize(5);
        }
    }

    @Test
    void aRolledBackStateChangeLeavesNoMessage() {
        try {
            tx.executeWithoutResult(s -> {
                db.sql("insert into outbox(topic, msg_key, payload) values ('t', 'k', 'announces a change that fails')").update();
                throw new IllegalStateException("the state change fails after writing its message");
            });
        } catch (IllegalStateException expected) {
            // rolled back
        }
        SwitchableKafka kafka = new SwitchableKafka();
        kafka.up = true;
        try (OutboxPublisher publisher = new OutboxPublisher(db, ds, kafka)) {
            publisher.publish();
        }
        assertThat(kafka.acknowledged).isEmpty();
    }

    @Test
    void aMessageIdIsAppliedOnce() {
        db.sql("delete from processed_messages").update();
        String insert = "insert into processed_messages(message_id) values (?) on conflict do nothing";
        assertThat(db.sql(insert).param("m-1").update()).isEqualTo(1);
        assertThat(db.sql(insert).param("m-1").update()).isZero();
    }

    /** A broker that acknowledges only when the test opens the gate: a publisher is "waiting for Kafka" until then. */
    static final class GatedKafka extends KafkaTemplate<String, String> {
        final java.util.concurrent.CountDownLatch sending = new java.util.concurrent.CountDownLatch(1);
        final List<ProducerRecord<String, String>> sent;
        final List<CompletableFuture<SendResult<String, String>>> pending = new ArrayList<>();
        boolean open;

        GatedKafka(List<ProducerRecord<String, String>> sent) {
            super(new DefaultKafkaProducerFactory<>(Map.of()));
            this.sent = sent;
        }

        @Override
        public synchronized CompletableFuture<SendResult<String, String>> send(String topic, String key, String value) {
            ProducerRecord<String, String> r = new ProducerRecord<>(topic, key, value);
            synchronized (sent) {
                sent.add(r);
            }
            sending.countDown();
            CompletableFuture<SendResult<String, String>> ack = new CompletableFuture<>();
            if (open) ack.complete(null);
            else pending.add(ack);
            return ack;
        }

        synchronized void open() {
            open = true;
            pending.forEach(f -> f.complete(null));
        }
    }

    @Test
    void whileKafkaIsAwaitedNoRowIsLockedAndASecondReplicaDoesNotOvertakeTheFirst() throws Exception {
        for (int i = 0; i < 300; i++) db.sql("insert into outbox(topic, msg_key, payload) values ('t', ?, ?)").params("job-" + i % 3, "m" + i).update();
        List<ProducerRecord<String, String>> sent = new ArrayList<>();
        GatedKafka firstKafka = new GatedKafka(sent), secondKafka = new GatedKafka(sent);
        try (OutboxPublisher first = new OutboxPublisher(db, ds, firstKafka); OutboxPublisher second = new OutboxPublisher(db, ds, secondKafka)) {
            Thread publishing = Thread.ofVirtual().start(first::publish);
            assertThat(firstKafka.sending.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            // the first replica waits for Kafka: the job-service's own transactions can still lock any outbox row
            tx.executeWithoutResult(s -> assertThat(db.sql("select id from outbox order by id for update nowait").query(Long.class).list()).hasSize(300));
            // the second replica publishes nothing meanwhile (rows 200.. would overtake the first one's batch of the same jobs)
            second.publish();
            assertThat(sent).hasSize(200);
            firstKafka.open();
            publishing.join();
            first.publish();
            assertThat(first.unpublished()).isZero();
        }
        assertThat(sent).extracting(ProducerRecord::value).containsExactlyElementsOf(java.util.stream.IntStream.range(0, 300).mapToObj(i -> "m" + i).toList());
    }

    @Test
    void whenTheReplicaThatPublishesGoesAwayAnotherTakesOver() {
        db.sql("insert into outbox(topic, msg_key, payload) values ('t', 'job-1', 'm0')").update();
        SwitchableKafka kafka = new SwitchableKafka();
        kafka.up = true;
        OutboxPublisher first = new OutboxPublisher(db, ds, kafka), second = new OutboxPublisher(db, ds, kafka);
        assertThat(first.leader()).isTrue();
        assertThat(second.leader()).isFalse();
        first.close(); // its session ends: PostgreSQL releases the lock
        second.publish();
        assertThat(kafka.acknowledged).extracting(ProducerRecord::value).containsExactly("m0");
        second.close();
    }

    @Test
    void retentionDeletesOnlyPublishedRowsAndMessageIdsOlderThanTheirAge() {
        db.sql("delete from processed_messages").update();
        db.sql("insert into outbox(topic, msg_key, payload, published_at) values ('t', 'k', 'old', now() - interval '8 days')").update();
        db.sql("insert into outbox(topic, msg_key, payload, published_at) values ('t', 'k', 'recent', now() - interval '1 hour')").update();
        db.sql("insert into outbox(topic, msg_key, payload, created_at) values ('t', 'k', 'unpublished', now() - interval '30 days')").update();
        db.sql("insert into processed_messages(message_id, processed_at) values ('old', now() - interval '8 days'), ('recent', now())").update();
        Retention.Purged purged = new Retention(db, new JobsProperties.RetentionPeriods(java.time.Duration.ofDays(7), java.time.Duration.ofDays(7))).purge();
        assertThat(purged).isEqualTo(new Retention.Purged(1, 1));
        assertThat(db.sql("select payload from outbox order by id").query(String.class).list()).containsExactly("recent", "unpublished");
        assertThat(db.sql("select message_id from processed_messages").query(String.class).list()).containsExactly("recent");
    }
}

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
        DataSource ds = pg.getPostgresDatabase();
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
        OutboxPublisher publisher = new OutboxPublisher(db, kafka, tx);

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
        new OutboxPublisher(db, kafka, tx).publish();
        assertThat(kafka.acknowledged).isEmpty();
    }

    @Test
    void aMessageIdIsAppliedOnce() {
        db.sql("delete from processed_messages").update();
        String insert = "insert into processed_messages(message_id) values (?) on conflict do nothing";
        assertThat(db.sql(insert).param("m-1").update()).isEqualTo(1);
        assertThat(db.sql(insert).param("m-1").update()).isZero();
    }
}

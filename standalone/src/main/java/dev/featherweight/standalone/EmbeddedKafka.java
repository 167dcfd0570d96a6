package dev.featherweight.standalone;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One KRaft Kafka server (broker and controller in one node) whose log lives in a directory of the data dir,
 * so a restarted platform finds its topics, messages and consumer offsets again. The test kit's broker
 * (spring-kafka-test) formats a fresh temp dir with a new cluster id at every start and cannot be stopped
 * and started again on the same ports; this one can: its ports are chosen once, so clients of the services
 * reconnect by themselves after {@link #stop()} and {@link #start()} (what a broker restart looks like).
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final int NODE_ID = 1;
    private final Path logDir;
    private final int partitions;
    private final List<String> topics;
    private final int brokerPort;
    private final int controllerPort;
    private KafkaRaftServer server;

    public EmbeddedKafka(Path logDir, int partitions, Collection<String> topics) throws IOException {
        this.logDir = logDir;
        this.partitions = partitions;
        this.topics = List.copyOf(topics);
        this.brokerPort = freePort();
        this.controllerPort = freePort();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + brokerPort;
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    /** Formats the log dir the first time (a later start keeps it), starts the server and creates the topics it lacks. */
    public synchronized void start() throws Exception {
        if (server != null) return;
        Files.createDirectories(logDir);
        KafkaConfig config = KafkaConfig.fromProps(config(), false);
        if (!Files.exists(logDir.resolve("meta.properties"))) // a formatted dir keeps its cluster id (formatting again would change it)
            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setNodeId(NODE_ID)
                    .setClusterId(Uuid.randomUuid().toString())
                    .setDirectories(List.of(logDir.toString()))
                    .setMetadataLogDirectory(logDir.toString())
                    .setControllerListenerName("CONTROLLER")
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .run();
        KafkaRaftServer started = new KafkaRaftServer(config, Time.SYSTEM);
        started.startup();
        server = started;
        createTopics();
    }

    private Properties config() {
        Properties p = new Properties();
        p.putAll(Map.ofEntries(
                Map.entry("process.roles", "broker,controller"),
                Map.entry("node.id", String.valueOf(NODE_ID)),
                Map.entry("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort),
                Map.entry("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort),
                Map.entry("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort),
                Map.entry("controller.listener.names", "CONTROLLER"),
                Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
                Map.entry("inter.broker.listener.name", "PLAINTEXT"),
                Map.entry("log.dirs", logDir.toString()),
                Map.entry("num.partitions", String.valueOf(partitions)),
                Map.entry("auto.create.topics.enable", "true"),
                // one node: every internal topic has one replica, and few partitions start faster
                Map.entry("offsets.topic.replication.factor", "1"),
                Map.entry("offsets.topic.num.partitions", String.valueOf(partitions)),
                Map.entry("transaction.state.log.replication.factor", "1"),
                Map.entry("transaction.state.log.min.isr", "1"),
                Map.entry("transaction.state.log.num.partitions", String.valueOf(partitions)),
                Map.entry("share.coordinator.state.topic.replication.factor", "1"),
                Map.entry("share.coordinator.state.topic.min.isr", "1"),
                Map.entry("group.initial.rebalance.delay.ms", "0"),
                // one node: no partition leadership to move away before it stops (saves seconds of every stop)
                Map.entry("controlled.shutdown.enable", "false")));
        return p;
    }

    private void createTopics() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            for (String topic : topics) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) throw e; // kept from the last start
                }
            }
        }
    }

    /** Stops the server and waits until it has; the log stays. */
    public synchronized void stop() {
        if (server == null) return;
        server.shutdown();
        server.awaitShutdown();
        server = null;
    }

    @Override
    public void close() {
        stop();
    }
}

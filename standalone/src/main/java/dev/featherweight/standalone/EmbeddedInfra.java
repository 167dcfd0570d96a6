package dev.featherweight.standalone;

import dev.featherweight.contracts.Topics;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * The three servers of the standalone platform, in-process: a KRaft Kafka server (log under dataDir/kafka,
 * kept across restarts), a PostgreSQL (zonky: real postgres binaries, data under dataDir/postgres, kept across restarts) and an S3
 * server (s3proxy, filesystem-backed under dataDir/s3). They are beans of a parent context: the services'
 * contexts are its children, so closing the parent closes the services first and the servers last.
 */
public final class EmbeddedInfra {
    public static final String S3_ACCESS_KEY = "featherweight";
    public static final String S3_SECRET_KEY = "featherweight-secret";

    @SuppressWarnings("unchecked")
    /** Starts the servers; the returned context holds them as beans (destroyed on close). */
    public static AnnotationConfigApplicationContext start(Path dataDir, int s3Port, java.util.Map<String, Object> sharedBeans) throws Exception {
        Files.createDirectories(dataDir);
        AnnotationConfigApplicationContext infra = new AnnotationConfigApplicationContext();
        infra.setId("featherweight-infra");
        long t0 = System.nanoTime();

        EmbeddedKafka kafka = new EmbeddedKafka(dataDir.resolve("kafka"), 4, Topics.ALL);
        kafka.start();
        infra.registerBean("kafka", EmbeddedKafka.class, () -> kafka, bd -> bd.setDestroyMethodName("close"));

        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir.resolve("postgres"))
                .setCleanDataDirectory(false)
                // no hook of its own: it would stop PostgreSQL while the services still use it; the platform's hook
                // stops it last (and a SIGKILLed JVM runs no hook at all: the next start stops what it left)
                .setRegisterShutdownHook(false)
                .setServerConfig("max_connections", "100")
                .start();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            for (String db : new String[]{"jobs", "registry"}) {
                try (ResultSet rs = s.executeQuery("select 1 from pg_database where datname = '" + db + "'")) {
                    if (!rs.next()) s.execute("create database " + db);
                }
            }
        }
        infra.registerBean("postgres", EmbeddedPostgres.class, () -> pg, bd -> bd.setDestroyMethodName("close"));

        Path s3Dir = dataDir.resolve("s3");
        Files.createDirectories(s3Dir);
        S3Proxy s3 = S3Proxy.builder()
                .blobStore(new FilesystemNio2BlobStore(s3Dir.toString()))
                .endpoint(URI.create("http://127.0.0.1:" + s3Port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, S3_ACCESS_KEY, S3_SECRET_KEY)
                .ignoreUnknownHeaders(true)
                .build();
        s3.start();
        while (!s3.getState().equals("STARTED")) Thread.sleep(10);
        infra.registerBean("s3", S3Proxy.class, () -> s3, bd -> bd.setDestroyMethodName("stop"));

        // beans every service context sees (tests put a kernels stand-in here; production puts nothing)
        sharedBeans.forEach((name, bean) -> infra.registerBean(name, (Class<Object>) bean.getClass(), () -> bean));
        infra.refresh();
        System.err.printf("featherweight: Kafka %s, PostgreSQL port %d, S3 port %d started in %.1f s%n",
                kafka.bootstrapServers(), pg.getPort(), s3.getPort(), (System.nanoTime() - t0) / 1e9);
        return infra;
    }

    private EmbeddedInfra() {}
}

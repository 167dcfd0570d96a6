package dev.featherweight.standalone;

import dev.featherweight.eval.EvalWorkerApplication;
import dev.featherweight.gateway.GatewayApplication;
import dev.featherweight.jobs.JobServiceApplication;
import dev.featherweight.quantizer.QuantizerWorkerApplication;
import dev.featherweight.registry.RegistryApplication;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.gaul.s3proxy.S3Proxy;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * All five services in one JVM, each in its own Spring context (a child of the infrastructure context),
 * talking to each other only over Kafka and HTTP exactly as when deployed apart. Separate contexts keep
 * each service's beans, configuration and auto-configuration its own (two JPA/JDBC setups, two web
 * servers, two workers with their own consumers), and let a test stop one worker while the rest runs.
 */
public final class Platform implements AutoCloseable {
    static final String NO_DATABASE = String.join(",",
            "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
            "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
            "org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration",
            "org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration");
    static final String NO_JPA = String.join(",",
            "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
            "org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration");

    /** Where the internal services listen: not reachable from other machines. */
    static final String LOOPBACK = "127.0.0.1";

    public final AnnotationConfigApplicationContext infra;
    // set one by one as the services start (null if an earlier one failed)
    public ConfigurableApplicationContext registry;
    public ConfigurableApplicationContext jobService;
    public ConfigurableApplicationContext gateway;
    public final List<ConfigurableApplicationContext> quantizers = new CopyOnWriteArrayList<>();
    public ConfigurableApplicationContext evalWorker;
    private final Map<String, String> common;
    private final Map<String, String> overrides;
    private final Path dataDir;
    private final String serviceCredential;
    /** Read right after each start: Boot also writes local.server.port into the shared parent environment, so it is only right until the next context starts. */
    private final Map<ConfigurableApplicationContext, Integer> ports = new java.util.concurrent.ConcurrentHashMap<>();

    public record Options(Path dataDir, int gatewayPort, int s3Port, String adminKey, Map<String, String> overrides, Map<String, Object> sharedBeans) {}

    /** Where the services find Kafka, PostgreSQL and S3. */
    public record Endpoints(String kafka, String jobsDbUrl, String registryDbUrl, String dbUser, String dbPassword,
                            String s3Endpoint, String s3AccessKey, String s3SecretKey) {}

    /** All services on embedded Kafka, PostgreSQL and S3 (started here, stopped by {@link #close}). */
    public static Platform start(Options options) throws Exception {
        AnnotationConfigApplicationContext infra = EmbeddedInfra.start(options.dataDir(), options.s3Port(), options.sharedBeans());
        EmbeddedPostgres pg = infra.getBean(EmbeddedPostgres.class);
        return new Platform(options, infra, new Endpoints(infra.getBean(EmbeddedKafkaKraftBroker.class).getBrokersAsString(),
                pg.getJdbcUrl("postgres", "jobs"), pg.getJdbcUrl("postgres", "registry"), "postgres", "postgres",
                "http://127.0.0.1:" + infra.getBean(S3Proxy.class).getPort(), EmbeddedInfra.S3_ACCESS_KEY, EmbeddedInfra.S3_SECRET_KEY));
    }

    /** All services on servers that run elsewhere (containers in tests, or real ones). */
    @SuppressWarnings("unchecked")
    public static Platform start(Options options, Endpoints endpoints) throws Exception {
        AnnotationConfigApplicationContext infra = new AnnotationConfigApplicationContext();
        options.sharedBeans().forEach((name, bean) -> infra.registerBean(name, (Class<Object>) bean.getClass(), () -> bean));
        infra.refresh();
        return new Platform(options, infra, endpoints);
    }

    private Platform(Options o, AnnotationConfigApplicationContext infra, Endpoints e) throws Exception {
        this.dataDir = o.dataDir();
        this.overrides = o.overrides();
        this.infra = infra;
        // one secret per deployment (this data directory): the internal services demand it, gateway and workers send it
        this.serviceCredential = secret(o.dataDir().resolve("service-credential"), "fwsvc_");
        common = new LinkedHashMap<>();
        common.put("FW_SERVICE_CREDENTIAL", serviceCredential);
        common.put("FW_KAFKA", e.kafka());
        common.put("FW_DB_USER", e.dbUser());
        common.put("FW_DB_PASSWORD", e.dbPassword());
        common.put("FW_JOBS_DB_URL", e.jobsDbUrl());
        common.put("FW_REGISTRY_DB_URL", e.registryDbUrl());
        common.put("FW_S3_ENDPOINT", e.s3Endpoint());
        common.put("FW_S3_ACCESS_KEY", e.s3AccessKey());
        common.put("FW_S3_SECRET_KEY", e.s3SecretKey());
        common.put("FW_ADMIN_KEY", o.adminKey());
        common.put("spring.main.banner-mode", "off");
        common.put("logging.include-application-name", "false"); // one logback for all contexts of this JVM
        common.put("spring.kafka.consumer.auto-offset-reset", "earliest");
        common.put("featherweight.worker.cache-dir", o.dataDir().resolve("worker-cache").toString());
        common.put("featherweight.worker.work-dir", o.dataDir().resolve("worker-work").toString());

        try {
            startServices(o);
        } catch (RuntimeException | Error failure) {
            close(); // a service that fails to start must not leave the others and the servers running
            throw failure;
        }
    }

    private void startServices(Options o) {
        jobService = run(JobServiceApplication.class, "job-service", 0, Map.of("server.address", LOOPBACK));
        common.put("FW_JOBS_URL", "http://127.0.0.1:" + port(jobService)); // the registry asks it before completing an artifact
        registry = run(RegistryApplication.class, "registry-service", 0, Map.of("spring.autoconfigure.exclude", NO_JPA, "server.address", LOOPBACK));
        common.put("FW_REGISTRY_URL", "http://127.0.0.1:" + port(registry));
        gateway = run(GatewayApplication.class, "gateway", o.gatewayPort(), Map.of("spring.autoconfigure.exclude", NO_DATABASE));
        startQuantizer("quantizer-1", Map.of());
        evalWorker = run(EvalWorkerApplication.class, "eval-worker", 0, Map.of("spring.autoconfigure.exclude", NO_DATABASE,
                "featherweight.worker.name", "eval-1", "server.address", LOOPBACK));
    }

    /** Starts one more quantizer-worker context (tests use this to replace a stopped one). */
    public ConfigurableApplicationContext startQuantizer(String name, Map<String, String> extra) {
        Map<String, String> p = new LinkedHashMap<>(extra);
        p.put("spring.autoconfigure.exclude", NO_DATABASE);
        p.put("featherweight.worker.name", name);
        p.putIfAbsent("server.address", LOOPBACK);
        ConfigurableApplicationContext c = run(QuantizerWorkerApplication.class, "quantizer-worker", 0, p);
        quantizers.add(c);
        return c;
    }

    private ConfigurableApplicationContext run(Class<?> app, String name, int port, Map<String, String> extra) {
        Map<String, Object> defaults = new LinkedHashMap<>(common);
        defaults.put("spring.config.name", name);
        List<String> args = new ArrayList<>();
        args.add("--server.port=" + port);
        extra.forEach((k, v) -> args.add("--" + k + "=" + v));
        overrides.forEach((k, v) -> args.add("--" + k + "=" + v));
        long t0 = System.nanoTime();
        ConfigurableApplicationContext c = new SpringApplicationBuilder(app).parent(infra).properties(defaults)
                .registerShutdownHook(false).run(args.toArray(String[]::new));
        c.setId(name);
        ports.put(c, readPort(c));
        // only the gateway's port is for users; the internal ones listen on loopback and demand the service credential
        if (port != 0 || !LOOPBACK.equals(c.getEnvironment().getProperty("server.address")))
            System.err.printf("featherweight: %s started on port %d in %.1f s%n", name, ports.get(c), (System.nanoTime() - t0) / 1e9);
        else System.err.printf("featherweight: %s started in %.1f s%n", name, (System.nanoTime() - t0) / 1e9);
        return c;
    }

    private static int readPort(ConfigurableApplicationContext c) {
        return Integer.parseInt(c.getEnvironment().getProperty("local.server.port", "-1"));
    }

    public int port(ConfigurableApplicationContext c) {
        return ports.get(c);
    }

    public String gatewayUrl() {
        return "http://localhost:" + port(gateway);
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The deployment's service credential (generated into the data directory at first start). */
    public String serviceCredential() {
        return serviceCredential;
    }

    /** A random secret kept in a file readable only by the owner (created on first use). */
    static String secret(Path file, String prefix) throws java.io.IOException {
        if (java.nio.file.Files.exists(file)) return java.nio.file.Files.readString(file).trim();
        byte[] b = new byte[24];
        new java.security.SecureRandom().nextBytes(b);
        String s = prefix + java.util.HexFormat.of().formatHex(b);
        java.nio.file.Files.createDirectories(file.toAbsolutePath().getParent());
        java.nio.file.Files.writeString(file, s);
        try {
            java.nio.file.Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
        return s;
    }

    /**
     * Stops the workers (they hand their tasks back), then the gateway, job-service and registry, then the
     * servers. The contexts of one step close in parallel: they share nothing, and one after the other the
     * consumers' and web servers' shutdowns added up to half a minute.
     */
    @Override
    public void close() {
        List<ConfigurableApplicationContext> workers = new ArrayList<>(quantizers);
        workers.add(evalWorker);
        closeAll(workers);
        closeAll(java.util.Arrays.asList(gateway, jobService, registry));
        infra.close();
    }

    private static void closeAll(List<ConfigurableApplicationContext> contexts) {
        List<Thread> closing = new ArrayList<>();
        for (ConfigurableApplicationContext c : contexts)
            if (c != null && c.isActive()) closing.add(Thread.ofPlatform().name("close-" + c.getId()).start(c::close));
        for (Thread t : closing) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}

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
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Platform.class);
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
    /** Closes the platform in order when the JVM stops (SIGTERM, Ctrl-C, end of a test run) before anyone else did. */
    private final Thread closeAtExit = new Thread(this::close, "featherweight-stop");
    private boolean closed;

    public record Options(Path dataDir, int gatewayPort, int s3Port, String adminKey, Map<String, String> overrides, Map<String, Object> sharedBeans) {}

    /** Where the services find Kafka, PostgreSQL and S3. */
    public record Endpoints(String kafka, String jobsDbUrl, String registryDbUrl, String dbUser, String dbPassword,
                            String s3Endpoint, String s3AccessKey, String s3SecretKey) {}

    /** All services on embedded Kafka, PostgreSQL and S3 (started here, stopped by {@link #close}). */
    public static Platform start(Options options) throws Exception {
        AnnotationConfigApplicationContext infra = EmbeddedInfra.start(options.dataDir(), options.s3Port(), options.sharedBeans());
        EmbeddedPostgres pg = infra.getBean(EmbeddedPostgres.class);
        return new Platform(options, infra, new Endpoints(infra.getBean(EmbeddedKafka.class).bootstrapServers(),
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
        // Bounds of a stop (the platform stops as a whole, in order, in a few seconds): no 30 s wait (Spring's default
        // per phase) for an open SSE stream or an upload; scheduled jobs (outbox, lease sweep) end their run instead of
        // being interrupted mid-statement; and logging stays up until the last service has stopped (this JVM's
        // shutdown hook closes the platform; Boot's own logging hook would stop logback while it still runs)
        common.put("spring.lifecycle.timeout-per-shutdown-phase", "2s");
        common.put("spring.task.scheduling.shutdown.await-termination", "true");
        common.put("spring.task.scheduling.shutdown.await-termination-period", "2s");
        common.put("logging.register-shutdown-hook", "false");
        common.put("featherweight.worker.cache-dir", o.dataDir().resolve("worker-cache").toString());
        common.put("featherweight.worker.work-dir", o.dataDir().resolve("worker-work").toString());

        Runtime.getRuntime().addShutdownHook(closeAtExit);
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

    /** Replicas beyond the first of each service (started by {@link #startReplica}); stopped with their kind. */
    private final List<ConfigurableApplicationContext> serviceReplicas = new CopyOnWriteArrayList<>();
    private final List<ConfigurableApplicationContext> workerReplicas = new CopyOnWriteArrayList<>();

    /** The services of which more than one may run at once, as a deployment scales them. */
    public enum Replicable { GATEWAY, JOB_SERVICE, QUANTIZER_WORKER, EVAL_WORKER }

    /**
     * Starts one more replica of a service in this JVM (on a free loopback port): it shares Kafka's consumer
     * groups, the databases and the store with the first one, as a second pod would. {@code jobsUrl} (null: the
     * first job-service) is the job-service this replica calls over HTTP — there is no load balancer in one JVM.
     */
    public ConfigurableApplicationContext startReplica(Replicable kind, String name, String jobsUrl) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("server.address", LOOPBACK);
        if (jobsUrl != null) p.put("FW_JOBS_URL", jobsUrl);
        ConfigurableApplicationContext c = switch (kind) {
            case GATEWAY -> run(GatewayApplication.class, "gateway", 0, with(p, "spring.autoconfigure.exclude", NO_DATABASE));
            case JOB_SERVICE -> run(JobServiceApplication.class, "job-service", 0, p);
            case QUANTIZER_WORKER -> run(QuantizerWorkerApplication.class, "quantizer-worker", 0,
                    with(with(p, "spring.autoconfigure.exclude", NO_DATABASE), "featherweight.worker.name", name));
            case EVAL_WORKER -> run(EvalWorkerApplication.class, "eval-worker", 0,
                    with(with(p, "spring.autoconfigure.exclude", NO_DATABASE), "featherweight.worker.name", name));
        };
        c.setId(name);
        (kind == Replicable.QUANTIZER_WORKER || kind == Replicable.EVAL_WORKER ? workerReplicas : serviceReplicas).add(c);
        return c;
    }

    private static Map<String, String> with(Map<String, String> m, String key, String value) {
        m.put(key, value);
        return m;
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
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (Thread.currentThread() != closeAtExit) {
            try {
                Runtime.getRuntime().removeShutdownHook(closeAtExit);
            } catch (IllegalStateException stopping) {
                // the JVM is stopping: the hook finds the platform closed
            }
        }
        List<ConfigurableApplicationContext> workers = new ArrayList<>(quantizers);
        workers.add(evalWorker);
        workers.addAll(workerReplicas);
        closeAll(workers);
        List<ConfigurableApplicationContext> services = new ArrayList<>(java.util.Arrays.asList(gateway, jobService, registry));
        services.addAll(serviceReplicas);
        closeAll(services);
        long t0 = System.nanoTime();
        infra.close();
        log.info("servers stopped in {} ms", (System.nanoTime() - t0) / 1_000_000);
    }

    private static void closeAll(List<ConfigurableApplicationContext> contexts) {
        List<Thread> closing = new ArrayList<>();
        for (ConfigurableApplicationContext c : contexts)
            if (c != null && c.isActive()) closing.add(Thread.ofPlatform().name("close-" + c.getId()).start(() -> {
                long t0 = System.nanoTime();
                c.close();
                log.info("{} stopped in {} ms", c.getId(), (System.nanoTime() - t0) / 1_000_000);
            }));
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

package dev.featherweight.kernels.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads for the matmuls and attention of one model. {@link #forEach} hands out
 * task indices dynamically (an atomic counter), so uneven tasks still balance; the calling thread works
 * too, so {@code threads = 1} runs everything on the caller with no pool at all.
 */
public final class Parallel implements AutoCloseable {
    private static volatile Parallel shared;

    private final int threads;
    private final ExecutorService pool;

    public Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "fw-infer");
            t.setDaemon(true);
            return t;
        });
    }

    /** One pool with as many threads as cores, for callers that do not configure their own. */
    public static Parallel shared() {
        Parallel p = shared;
        if (p == null) {
            synchronized (Parallel.class) {
                if (shared == null) shared = new Parallel(Runtime.getRuntime().availableProcessors());
                p = shared;
            }
        }
        return p;
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code task.accept(i)} for every i in [0, nTasks), spread over the threads; returns when all are done. */
    public void forEach(int nTasks, IntConsumer task) {
        if (nTasks <= 0) return;
        if (pool == null || nTasks == 1) {
            for (int i = 0; i < nTasks; i++) task.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int i; (i = next.getAndIncrement()) < nTasks; ) task.accept(i);
        };
        int helpers = Math.min(threads - 1, nTasks - 1);
        List<Future<?>> futures = new ArrayList<>(helpers);
        for (int h = 0; h < helpers; h++) futures.add(pool.submit(worker));
        Throwable failure = null;
        try {
            worker.run();
        } catch (Throwable t) {
            failure = t;
            next.set(nTasks); // let the helpers stop early
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error er) throw er;
        if (failure != null) throw new IllegalStateException(failure);
    }

    @Override
    public void close() {
        if (pool != null && this != shared) pool.shutdownNow();
    }
}

package dev.featherweight.kernels.core;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads for the matmuls, attention and quantization of one model (the only thread pool of
 * the kernels: other code calls it and never creates executors of its own). The {@code threads - 1} workers are
 * started once and stay parked between calls; {@link #forEach} publishes one job (no task objects, no futures),
 * hands out task indices dynamically from an atomic counter, so uneven tasks still balance, and the calling thread
 * works too. {@code threads = 1} runs everything on the caller with no thread at all.
 *
 * <p>Why not an executor: a one-token decode makes ~7 matmuls per layer of a few microseconds each; a submit plus
 * {@code Future.get} per helper per call cost as much as the product. Here a call costs an unpark per worker, and a
 * worker spins briefly before parking, so back-to-back calls find it awake.
 *
 * <p>Calls from several threads are serialized (one job at a time); a call made from inside a task (a worker or the
 * caller that owns the current job) runs inline on that thread, so nesting cannot deadlock.
 */
public final class Parallel implements AutoCloseable {
    private static volatile Parallel shared;
    /** Spin iterations before a waiting thread parks: ~10–50 µs, the gap between the matmuls of one layer. */
    private static final int SPINS = 1 << 12;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock submit = new ReentrantLock();

    // The current job. Written by the owner under `submit` before the generation is bumped (a volatile write), read
    // by workers after they see the new generation (a volatile read), so the plain fields are safely published.
    private IntConsumer task;
    private int nTasks;
    private final AtomicInteger next = new AtomicInteger();
    /**
     * Places for workers in the current job. A worker takes one before it reads the job; the owner takes the rest
     * when its own share is done, so a worker the OS has not scheduled yet (a loaded machine) is simply left out
     * instead of being waited for.
     */
    private final AtomicInteger places = new AtomicInteger();
    /** Workers that took a place and have finished the job. */
    private final AtomicInteger finished = new AtomicInteger();
    private volatile int generation;
    private volatile Thread owner;
    private volatile Throwable failure;
    private volatile boolean closed;

    public Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            Thread t = new Thread(this::workerLoop, "fw-worker-" + (i + 1));
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
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
        if (workers.length == 0 || nTasks == 1 || closed || isWorkerOrOwner()) {
            for (int i = 0; i < nTasks; i++) task.accept(i);
            return;
        }
        submit.lock();
        try {
            owner = Thread.currentThread();
            this.task = task;
            this.nTasks = nTasks;
            this.failure = null;
            next.set(0);
            finished.set(0);
            places.set(workers.length); // publishes the job to workers that take a place
            generation++;               // wakes the waiting ones
            for (Thread w : workers) LockSupport.unpark(w);
            runTasks(task, nTasks);
            // Workers that have not joined yet never will; wait only for those inside, before the fields are reused.
            int joined = workers.length - places.getAndSet(0);
            for (int spin = 0; finished.get() != joined; spin++) {
                if (spin < SPINS) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 50_000);
            }
            this.task = null;
            owner = null;
            Throwable f = failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error er) throw er;
            if (f != null) throw new IllegalStateException(f);
        } finally {
            owner = null;
            submit.unlock();
        }
    }

    /** Like {@link #forEach}, but on the calling thread alone when the whole job is smaller than {@code inlineWork}. */
    public void forEach(int nTasks, long work, long inlineWork, IntConsumer task) {
        if (work < inlineWork) {
            for (int i = 0; i < nTasks; i++) task.accept(i);
        } else {
            forEach(nTasks, task);
        }
    }

    private boolean isWorkerOrOwner() {
        Thread me = Thread.currentThread();
        if (me == owner) return true;
        for (Thread w : workers) if (w == me) return true;
        return false;
    }

    private void runTasks(IntConsumer task, int n) {
        try {
            for (int i; (i = next.getAndIncrement()) < n; ) task.accept(i);
        } catch (Throwable t) {
            if (failure == null) failure = t;
            next.set(n); // let the others stop early
        }
    }

    private void workerLoop() {
        int seen = 0;
        while (true) {
            int spin = 0;
            while (generation == seen) {
                if (closed) return;
                if (spin++ < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            seen = generation;
            while (takePlace()) {
                runTasks(task, nTasks);
                Thread o = owner;
                finished.incrementAndGet();
                if (o != null) LockSupport.unpark(o);
            }
        }
    }

    /** Takes one place in the current job if one is left (never drives the count below 0). */
    private boolean takePlace() {
        for (int p; (p = places.get()) > 0; ) {
            if (places.compareAndSet(p, p - 1)) return true;
        }
        return false;
    }

    @Override
    public void close() {
        if (this == shared) return;
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}

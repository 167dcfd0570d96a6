package dev.featherweight.kernels.core;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The persistent pool: every index exactly once per call, failures reach the caller, nested and concurrent calls. */
class ParallelTest {
    @Test
    void everyTaskRunsExactlyOnceInManyBackToBackCalls() {
        try (Parallel pool = new Parallel(3)) {
            for (int call = 0; call < 20_000; call++) {
                int n = 1 + call % 9;
                AtomicIntegerArray runs = new AtomicIntegerArray(n);
                pool.forEach(n, runs::incrementAndGet);
                for (int i = 0; i < n; i++) assertThat(runs.get(i)).as("call %d task %d", call, i).isEqualTo(1);
            }
        }
    }

    @Test
    void aFailingTaskFailsTheCallAndThePoolKeepsWorking() {
        try (Parallel pool = new Parallel(2)) {
            assertThatThrownBy(() -> pool.forEach(50, i -> {
                if (i == 17) throw new IllegalStateException("task 17");
            })).isInstanceOf(IllegalStateException.class).hasMessage("task 17");
            AtomicLong sum = new AtomicLong();
            pool.forEach(100, i -> sum.addAndGet(i));
            assertThat(sum.get()).isEqualTo(4950);
        }
    }

    @Test
    void nestedAndConcurrentCallersAllFinish() throws InterruptedException {
        try (Parallel pool = new Parallel(2)) {
            AtomicLong count = new AtomicLong();
            Thread[] callers = new Thread[3];
            for (int k = 0; k < callers.length; k++) {
                callers[k] = new Thread(() -> {
                    for (int r = 0; r < 2_000; r++) pool.forEach(4, i -> pool.forEach(3, j -> count.incrementAndGet()));
                });
                callers[k].start();
            }
            for (Thread t : callers) t.join();
            assertThat(count.get()).isEqualTo(3L * 2_000 * 4 * 3);
        }
    }

    @Test
    void smallJobsRunOnTheCallerAndAClosedPoolStillWorks() {
        Parallel pool = new Parallel(2);
        Thread caller = Thread.currentThread();
        AtomicLong elsewhere = new AtomicLong();
        pool.forEach(8, 100, 1_000, i -> {
            if (Thread.currentThread() != caller) elsewhere.incrementAndGet();
        });
        assertThat(elsewhere.get()).isZero();
        pool.close();
        AtomicLong sum = new AtomicLong();
        pool.forEach(10, i -> sum.addAndGet(i));
        assertThat(sum.get()).isEqualTo(45);
    }
}

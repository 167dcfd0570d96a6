package dev.featherweight.jobs;

import dev.featherweight.contracts.Message.TaskKind;
import dev.featherweight.contracts.jobs.TaskState;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;

import java.time.Instant;

@Entity
@Table(name = "tasks")
public class TaskEntity {
    @Id
    public String id;
    public String jobId;
    public int seq;
    @Enumerated(EnumType.STRING)
    public TaskKind kind;
    public String recipe;
    public String label;
    public String inputArtifactId;
    public String outputArtifactId;
    public String parentTaskId;
    @Enumerated(EnumType.STRING)
    public TaskState state;
    public int attempt;
    public int maxAttempts;
    public Instant leaseUntil;
    /** When the current attempt's TaskAssigned was last written to the outbox (null: waiting for retryAt). */
    public Instant offeredAt;
    /** A retried attempt is offered no earlier than this (backoff after a transient failure). */
    public Instant retryAt;
    public String worker;
    public String gpu;
    public Integer block;
    public Integer blocks;
    public String module;
    public Double wallSeconds;
    public Double gpuSeconds;
    public Double secondsLeft;
    public String metrics;
    public String error;
    public Instant startedAt;
    public Instant finishedAt;
    @Version
    public long version;

    public boolean open() {
        return state.open();
    }
}

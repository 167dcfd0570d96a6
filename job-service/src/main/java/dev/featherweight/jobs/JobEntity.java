package dev.featherweight.jobs;

import dev.featherweight.contracts.jobs.JobState;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;

import java.time.Instant;

@Entity
@Table(name = "jobs")
public class JobEntity {
    @Id
    public String id;
    public String tenantId;
    public String modelName;
    public String spec;
    @Enumerated(EnumType.STRING)
    public JobState state;
    public String error;
    public Instant submittedAt;
    public Instant startedAt;
    public Instant finishedAt;
    @Version
    public long version;

    public boolean terminal() {
        return state.terminal();
    }
}

package dev.featherweight.jobs;

import jakarta.persistence.Entity;
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
    public String state;
    public String error;
    public Instant submittedAt;
    public Instant startedAt;
    public Instant finishedAt;
    @Version
    public long version;

    public boolean terminal() {
        return state.equals("SUCCEEDED") || state.equals("FAILED") || state.equals("CANCELLED");
    }
}

package dev.featherweight.jobs;

import dev.featherweight.contracts.jobs.JobState;
import dev.featherweight.contracts.jobs.TaskState;
import org.springframework.data.domain.Page;
import org.springframework.data.domain.Pageable;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Query;

import java.time.Instant;
import java.util.Collection;
import java.util.List;

interface JobRepository extends JpaRepository<JobEntity, String> {
    @Query("select j from JobEntity j where j.tenantId = :tenant and (:state is null or j.state = :state) and (:model is null or j.modelName = :model)")
    Page<JobEntity> search(String tenant, JobState state, String model, Pageable page);

    long countByState(JobState state);

    long countByTenantIdAndStateIn(String tenantId, java.util.Collection<JobState> states);
}

interface TaskRepository extends JpaRepository<TaskEntity, String> {
    List<TaskEntity> findByJobIdOrderBySeq(String jobId);

    @Query("select t from TaskEntity t where t.state in :states and t.leaseUntil < :now")
    List<TaskEntity> leaseEndedBefore(Collection<TaskState> states, Instant now);

    /** Open tasks whose lease (or queue timeout) ran out. */
    default List<TaskEntity> expired(Instant now) {
        return leaseEndedBefore(List.of(TaskState.ASSIGNED, TaskState.RUNNING), now);
    }
}

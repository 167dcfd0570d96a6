package dev.featherweight.jobs;

import org.springframework.data.domain.Page;
import org.springframework.data.domain.Pageable;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Query;

import java.time.Instant;
import java.util.List;

interface JobRepository extends JpaRepository<JobEntity, String> {
    @Query("select j from JobEntity j where j.tenantId = :tenant and (:state is null or j.state = :state) and (:model is null or j.modelName = :model)")
    Page<JobEntity> search(String tenant, String state, String model, Pageable page);

    long countByState(String state);

    long countByTenantIdAndStateIn(String tenantId, java.util.Collection<String> states);
}

interface TaskRepository extends JpaRepository<TaskEntity, String> {
    List<TaskEntity> findByJobIdOrderBySeq(String jobId);

    @Query("select t from TaskEntity t where t.state in ('ASSIGNED', 'RUNNING') and t.leaseUntil < :now")
    List<TaskEntity> expired(Instant now);
}

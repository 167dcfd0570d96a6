package dev.featherweight.contracts;

/** Every Kafka topic of the platform, in one place. Keys are job ids (commands, job events) or task ids. */
public final class Topics {
    /** {@link Message.JobSubmitted} and {@link Message.JobCancelled}, keyed by job id (so a cancel follows its submit). */
    public static final String JOB_COMMANDS = "fw.jobs.commands";
    /** {@link Message.TaskAssigned} of kind QUANTIZE, keyed by task id. */
    public static final String TASKS_QUANTIZE = "fw.tasks.quantize";
    /** {@link Message.TaskAssigned} of kind EVAL, keyed by task id. */
    public static final String TASKS_EVAL = "fw.tasks.eval";
    /** Worker → job-service: started, progress, heartbeat, succeeded, failed; keyed by task id. */
    public static final String TASK_EVENTS = "fw.tasks.events";
    /** job-service → gateway (SSE): {@link Message.JobStateChanged}, keyed by job id. */
    public static final String JOB_EVENTS = "fw.jobs.events";

    public static final java.util.List<String> ALL = java.util.List.of(JOB_COMMANDS, TASKS_QUANTIZE, TASKS_EVAL, TASK_EVENTS, JOB_EVENTS);

    private Topics() {}
}

create table jobs (
    id            varchar(64) primary key,
    tenant_id     varchar(64) not null,
    model_name    varchar(128) not null,
    spec          text not null,             -- the JobSpec as submitted (JSON)
    state         varchar(16) not null,      -- SUBMITTED | RUNNING | SUCCEEDED | FAILED | CANCELLED
    error         text,
    submitted_at  timestamptz not null,
    started_at    timestamptz,
    finished_at   timestamptz,
    version       bigint not null default 0
);
create index jobs_tenant on jobs (tenant_id, submitted_at desc);
create table tasks (
    id            varchar(64) primary key,
    job_id        varchar(64) not null references jobs on delete cascade,
    seq           int not null,
    kind          varchar(16) not null,      -- QUANTIZE | EVAL
    recipe        text,                      -- QUANTIZE: the Recipe (JSON)
    label         varchar(200) not null,
    input_artifact_id  varchar(64),          -- EVAL: the artifact to evaluate
    output_artifact_id varchar(64),          -- QUANTIZE: the artifact made
    parent_task_id varchar(64),
    state         varchar(16) not null,      -- ASSIGNED | RUNNING | SUCCEEDED | FAILED | CANCELLED
    attempt       int not null,
    max_attempts  int not null,
    lease_until   timestamptz,
    worker        varchar(200),
    gpu           varchar(100),
    block         int,
    blocks        int,
    module        varchar(200),
    wall_seconds  double precision,
    gpu_seconds   double precision,
    seconds_left  double precision,
    metrics       text,
    error         text,
    started_at    timestamptz,
    finished_at   timestamptz,
    version       bigint not null default 0,
    unique (job_id, seq)
);
create index tasks_lease on tasks (lease_until) where state in ('ASSIGNED', 'RUNNING');
-- transactional outbox: written in the same transaction as the state it announces, published by a poller
create table outbox (
    id            bigserial primary key,
    topic         varchar(200) not null,
    msg_key       varchar(200) not null,
    payload       text not null,
    created_at    timestamptz not null default now(),
    published_at  timestamptz
);
create index outbox_unpublished on outbox (id) where published_at is null;
-- idempotent consumers: a message id seen once is never applied again
create table processed_messages (
    message_id    varchar(100) primary key,
    processed_at  timestamptz not null default now()
);

create table tenants (
    id          varchar(64) primary key,
    name        varchar(200) not null unique,
    created_at  timestamptz not null default now()
);
create table api_keys (
    key_hash    char(64) primary key,           -- sha256 hex of the key; the key itself is never stored
    tenant_id   varchar(64) not null references tenants on delete cascade,
    admin       boolean not null default false,
    created_at  timestamptz not null default now()
);
create table models (
    tenant_id   varchar(64) not null references tenants on delete cascade,
    name        varchar(128) not null,
    source      varchar(1000) not null,
    state       varchar(16) not null,           -- UPLOADING | READY
    created_at  timestamptz not null default now(),
    primary key (tenant_id, name)
);
create table model_files (
    tenant_id   varchar(64) not null,
    model_name  varchar(128) not null,
    path        varchar(500) not null,
    size        bigint not null,
    sha256      char(64) not null,
    object_key  varchar(1000) not null,
    primary key (tenant_id, model_name, path),
    foreign key (tenant_id, model_name) references models on delete cascade
);
-- per model: measured numbers that do not depend on an artifact (perplexity cache of the source model)
create table model_metrics (
    tenant_id   varchar(64) not null,
    model_name  varchar(128) not null,
    name        varchar(300) not null,
    value       double precision not null,
    primary key (tenant_id, model_name, name),
    foreign key (tenant_id, model_name) references models on delete cascade
);
create table artifacts (
    id              varchar(64) primary key,
    tenant_id       varchar(64) not null references tenants on delete cascade,
    task_id         varchar(64) not null unique,   -- one artifact per task: a redelivered task finds the same row
    job_id          varchar(64) not null,
    model_name      varchar(128) not null,
    method          varchar(32) not null,
    bits            int not null,
    label           varchar(200) not null,
    recipe          text not null,
    kernels_version varchar(100) not null,
    state           varchar(16) not null,          -- PENDING (files arriving) | COMPLETE (visible)
    created_at      timestamptz not null default now(),
    completed_at    timestamptz
);
create index artifacts_tenant on artifacts (tenant_id, model_name, method, bits);
create table artifact_files (
    artifact_id varchar(64) not null references artifacts on delete cascade,
    path        varchar(500) not null,
    size        bigint not null,
    sha256      char(64) not null,
    object_key  varchar(1000) not null,
    primary key (artifact_id, path)
);
create table artifact_metrics (
    artifact_id varchar(64) not null references artifacts on delete cascade,
    name        varchar(300) not null,
    value       double precision not null,
    primary key (artifact_id, name)
);

-- keys get an id (to revoke one without knowing it); tenants get limits (null = the platform default);
-- import sources: the S3 buckets an administrator allowed a tenant to import from, with their own credentials
alter table api_keys add column id varchar(64);
update api_keys set id = 'k-' || substr(key_hash, 1, 16) where id is null;
alter table api_keys alter column id set not null;
create unique index api_keys_id on api_keys (id);
alter table tenants add column max_jobs_in_flight integer;
alter table tenants add column max_storage_bytes bigint;
alter table tenants add column max_upload_bytes bigint;
create table import_sources (
    tenant_id   varchar(64) not null references tenants on delete cascade,
    bucket      varchar(63) not null,
    endpoint    varchar(500) not null,
    access_key  varchar(200) not null,
    secret_key  varchar(500) not null,
    created_at  timestamptz not null default now(),
    primary key (tenant_id, bucket)
);

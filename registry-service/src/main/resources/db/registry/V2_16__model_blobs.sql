-- internal blobs of a model: data the platform derives from the model and reuses across jobs (the base model's
-- logits file for KL divergence), never listed as model files or artifacts and never shown to users; removed with the model
create table model_blobs (
    tenant_id   varchar(64) not null,
    model_name  varchar(128) not null,
    name        varchar(300) not null,
    size        bigint not null,
    sha256      char(64) not null,
    object_key  varchar(1000) not null,
    created_at  timestamptz not null default now(),
    primary key (tenant_id, model_name, name),
    foreign key (tenant_id, model_name) references models on delete cascade
);

-- PostgreSQL, not Kafka, is the record of what work is waiting: an ASSIGNED task remembers when its
-- TaskAssigned message was last offered (null: not yet, e.g. a retry waiting out its backoff), so the
-- job-service can offer it again after a restart or when the message may have been lost.
alter table tasks add column offered_at timestamptz;
alter table tasks add column retry_at   timestamptz;      -- a retried task is not offered before this (backoff)
update tasks set offered_at = now() where state = 'ASSIGNED';
create index tasks_assigned on tasks (offered_at) where state = 'ASSIGNED';
-- retention deletes by age
create index outbox_published on outbox (published_at) where published_at is not null;
create index processed_messages_age on processed_messages (processed_at);

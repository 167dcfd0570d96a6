-- docker-compose: the registry's database beside the job-service's (POSTGRES_DB creates "jobs")
create database registry owner featherweight;

-- Runs once, when the PostgreSQL volume is first created (docker-entrypoint-initdb.d).
-- The emulator profile's portal keeps its slots and deployments apart from the k3s portal's.
CREATE DATABASE deployportal_emulator OWNER portal;

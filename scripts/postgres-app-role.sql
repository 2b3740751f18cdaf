-- SPEC T6: run Molar's web servers and workers as a role that cannot change
-- or remove audit records, even without the triggers. Run as the role that
-- owns the tables (the one `molar migrate` uses), in Molar's database:
--   psql -v app=molar_app -v password="'...'" -d molar -f scripts/postgres-app-role.sql
-- then point DATABASE_URL at molar_app, and run migrations as the owner.
CREATE ROLE :app LOGIN PASSWORD :password;
GRANT CONNECT ON DATABASE :"DBNAME" TO :app;
GRANT USAGE ON SCHEMA public TO :app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :app;
-- Audit records: add and read, nothing else (the sealer's bookkeeping,
-- audit_sealstate and audit_deniedtally, keeps the grants above).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_auditevent, audit_auditseal, audit_auditcheckpoint FROM :app;
-- Tables made by later migrations get the same grants (then revoke again for new audit tables).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :app;

-- The tables of one store version. Raw events live in Parquet files listed in `batches`.
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS loaded_files (
    file_id BIGINT, content_hash VARCHAR, name VARCHAR, kind VARCHAR, format VARCHAR,
    rows_loaded BIGINT, rows_rejected BIGINT, rows_duplicate BIGINT, loaded_at TIMESTAMP,
    snapshot_date DATE, first_time TIMESTAMP, last_time TIMESTAMP, mapping VARCHAR, errors VARCHAR);
-- Every result, rejected files included, for the Data page's "last results".
CREATE TABLE IF NOT EXISTS ingest_log (
    logged_at TIMESTAMP, name VARCHAR, kind VARCHAR, format VARCHAR, status VARCHAR,
    rows_loaded BIGINT, rows_rejected BIGINT, message VARCHAR);
CREATE TABLE IF NOT EXISTS batches (file_id BIGINT, path VARCHAR, rows BIGINT, first_time TIMESTAMP, last_time TIMESTAMP);
CREATE TABLE IF NOT EXISTS dimensions (name VARCHAR PRIMARY KEY);
-- Rollups kept at ingest. user_key is a dense integer: joins and distinct counts on it are
-- much cheaper than on the user_id text.
CREATE TABLE IF NOT EXISTS users (user_key BIGINT, user_id VARCHAR, first_time TIMESTAMP, first_day DATE, last_active DATE);
-- last_active (the user's last day with an active event; pmkit.metrics.cohorts) came later: a
-- store from before gets the column empty, and its next ingest fills it.
ALTER TABLE users ADD COLUMN IF NOT EXISTS last_active DATE;
CREATE TABLE IF NOT EXISTS user_event_day (day DATE, user_key BIGINT, event VARCHAR, events BIGINT, revenue DOUBLE);
-- Stores from before kept each row's first event time, which nothing read: a quarter of a 10M
-- store's version file, copied by every ingest. Their next ingest drops it.
ALTER TABLE user_event_day DROP COLUMN IF EXISTS first_time;
CREATE TABLE IF NOT EXISTS user_day (day DATE, user_key BIGINT, events BIGINT, revenue DOUBLE, active BOOLEAN);
CREATE TABLE IF NOT EXISTS kpi_daily (day DATE, dau BIGINT, wau BIGINT, mau BIGINT, new_users BIGINT, events BIGINT, revenue DOUBLE);
CREATE TABLE IF NOT EXISTS roadmap_items (
    item_id VARCHAR, title VARCHAR, item_type VARCHAR, parent_id VARCHAR, objective_id VARCHAR, metric VARCHAR,
    owner VARCHAR, team VARCHAR, status VARCHAR, status_category VARCHAR, start_date DATE, due_date DATE,
    baseline_due_date DATE, completed_date DATE, estimate DOUBLE, progress DOUBLE, declared_health VARCHAR,
    blocked_by VARCHAR, source VARCHAR, snapshot_date DATE, file_id BIGINT);
CREATE TABLE IF NOT EXISTS objectives (
    objective_id VARCHAR, title VARCHAR, metric VARCHAR, baseline DOUBLE, target DOUBLE, start_date DATE,
    target_date DATE, direction VARCHAR, owner VARCHAR, file_id BIGINT);
CREATE TABLE IF NOT EXISTS feedback (
    submitted_at TIMESTAMP, user_id VARCHAR, score DOUBLE, scale VARCHAR, comment VARCHAR, source VARCHAR,
    attributes VARCHAR, file_id BIGINT);
ALTER TABLE feedback ADD COLUMN IF NOT EXISTS answer_id VARCHAR;
-- Events stored under another user than the one their file names (a visit tied to the user who
-- signed up, events_common.merged_identities), with that name: an export of the same visit
-- without the sign-up names it so, and is the same event (ingest._drop_loaded_event_ids).
CREATE TABLE IF NOT EXISTS tied_events (event_id VARCHAR, event VARCHAR, event_time TIMESTAMP, raw_user VARCHAR);

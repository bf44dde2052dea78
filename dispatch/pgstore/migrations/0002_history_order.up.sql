-- The order in which a unit's status changes were written. A change's `at`
-- is when it was decided or reported; with several engines on one database
-- a decision taken just before a unit cleared can be written just after it
-- (it is valid then: the unit row is checked under its lock), so `at` does
-- not order a unit's history. `id` does: a writer inserts history rows while
-- it holds the unit's row lock (FOR UPDATE in Apply), so per unit the ids
-- follow the commit order.
ALTER TABLE unit_status_history ADD COLUMN id bigserial;
CREATE INDEX unit_status_history_unit_id ON unit_status_history (drill, unit_id, id);
-- A unit's history is read in write order now: the index by time goes.
DROP INDEX unit_status_history_unit;

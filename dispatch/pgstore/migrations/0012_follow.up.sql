-- Replicas follow the log (Store.Changes): every instance reads the events
-- the others committed and refreshes only the rows they name.
--   * events.written: when the event was committed (near enough: inserted
--     at the end of its transaction), for the replica lag an instance
--     measures; rows older than this migration have none.
--   * reservations by incident: a refresh reads the reservations of the
--     incidents named.
ALTER TABLE events ADD COLUMN written timestamptz;
ALTER TABLE events ALTER COLUMN written SET DEFAULT clock_timestamp();
CREATE INDEX reservations_incident ON reservations (drill, incident) WHERE state = 'reserved';

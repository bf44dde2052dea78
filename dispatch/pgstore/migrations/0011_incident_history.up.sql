-- History of every incident: who changed it, when and what
-- (dispatch.HistoryEntry as JSON in doc), in the order written (seq).
CREATE TABLE IF NOT EXISTS incident_history (
    seq      bigserial PRIMARY KEY,
    drill    text        NOT NULL,
    incident text        NOT NULL,
    at       timestamptz NOT NULL,
    by_name  text        NOT NULL DEFAULT '',
    what     text        NOT NULL,
    doc      jsonb       NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_history_incident ON incident_history (drill, incident, seq);

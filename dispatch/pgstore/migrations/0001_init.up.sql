-- dispatchd schema. Every table is scoped by drill ('' = live state); a
-- drill's rows never mix with live rows.

-- One row per incident. The primary key is THE idempotency guard: an incident
-- is decided once per drill, whatever the number of engines or redeliveries.
CREATE TABLE incidents (
    drill       text        NOT NULL,
    id          text        NOT NULL,
    type        text        NOT NULL,
    priority    int         NOT NULL,
    state       text        NOT NULL,
    town        text        NOT NULL DEFAULT '',
    reported_at timestamptz NOT NULL,
    decided_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     int         NOT NULL,
    -- Incident.HasLocation is not in the JSON document (json:"-").
    has_location boolean    NOT NULL,
    doc         jsonb       NOT NULL,
    PRIMARY KEY (drill, id)
);
CREATE INDEX incidents_open ON incidents (drill) WHERE state NOT IN ('closed', 'cancelled');

-- Unit state. Invariant: a unit has at most one active assignment.
--   * the primary key (drill, id) keeps one row, hence one incident, per unit;
--   * the CHECK below ties an active status (dispatched, en_route, on_scene)
--     to exactly one incident, and any other status to none;
--   * Apply locks the rows of the units it changes (SELECT ... FOR UPDATE, in
--     key order) and refuses, with ErrConflict, a change to an active status
--     on incident X of a unit stored active on another incident Y, or a unit
--     whose stored status is not the one the engine saw (OldStatus of its
--     first change in the batch): a concurrent claim waits for the lock, then
--     sees the winner's row and fails instead of overwriting it.
CREATE TABLE units (
    drill    text             NOT NULL,
    id       text             NOT NULL,
    status   text             NOT NULL CHECK (status IN ('available', 'dispatched', 'en_route', 'on_scene', 'returning', 'out_of_service')),
    lat      double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng      double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
    incident text,
    since    timestamptz      NOT NULL,
    PRIMARY KEY (drill, id),
    CHECK ((status IN ('dispatched', 'en_route', 'on_scene')) = (incident IS NOT NULL AND incident <> ''))
);

-- Append-only: one row per status change (position-only changes are not kept).
CREATE TABLE unit_status_history (
    drill      text        NOT NULL,
    unit_id    text        NOT NULL,
    old_status text        NOT NULL,
    new_status text        NOT NULL,
    incident   text,
    at         timestamptz NOT NULL
);
CREATE INDEX unit_status_history_unit ON unit_status_history (drill, unit_id, at);

-- Invariant: stock never goes negative and never more is reserved than is
-- on hand, enforced by the CHECKs (an overdraw fails the UPDATE: ErrConflict).
-- Rows are seeded by SeedStock; a reserve against a row never seeded changes
-- nothing and is refused.
CREATE TABLE stock (
    drill    text NOT NULL,
    depot    text NOT NULL,
    item     text NOT NULL,
    on_hand  int  NOT NULL CHECK (on_hand >= 0),
    reserved int  NOT NULL CHECK (reserved >= 0 AND reserved <= on_hand),
    PRIMARY KEY (drill, depot, item)
);

-- A reservation id is used once: its primary key refuses a second reserve,
-- and consume/release only move it out of 'reserved'.
CREATE TABLE reservations (
    drill    text NOT NULL,
    id       text NOT NULL,
    incident text NOT NULL,
    depot    text NOT NULL,
    item     text NOT NULL,
    qty      int  NOT NULL CHECK (qty > 0),
    state    text NOT NULL CHECK (state IN ('reserved', 'consumed', 'released')),
    PRIMARY KEY (drill, id)
);
CREATE INDEX reservations_active ON reservations (drill) WHERE state = 'reserved';

-- The console event log. seq comes from a one-row counter updated inside the
-- writing transaction, so seqs are assigned in commit order and a reader
-- tailing by seq never skips an event committed later with a smaller seq.
CREATE TABLE event_seq (
    one bool   PRIMARY KEY DEFAULT true CHECK (one),
    n   bigint NOT NULL
);
INSERT INTO event_seq (one, n) VALUES (true, 0);

CREATE TABLE events (
    seq      bigint      PRIMARY KEY,
    at       timestamptz NOT NULL,
    kind     text        NOT NULL,
    drill    text        NOT NULL,
    town     text        NOT NULL,
    teams    text[]      NOT NULL,
    incident text        NOT NULL,
    unit     text        NOT NULL,
    data     jsonb
);

-- Transactional outbox for the assignments topic: written with the decision,
-- deleted once relayed.
CREATE TABLE outbox (
    id         bigserial   PRIMARY KEY,
    key        text        NOT NULL,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

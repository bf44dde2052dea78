-- Travel times learned from the units' own trips (issue 14): per drill, per
-- pair of H3 cells (origin, destination: one resolution, coarse or fine) and
-- hour band, the number of trips and the sum of the logs of actual / model.
-- The engine shrinks them toward the model and bounds them (geo.Travel).
CREATE TABLE IF NOT EXISTS travel_learned (
    drill     text             NOT NULL,
    from_cell bigint           NOT NULL,
    to_cell   bigint           NOT NULL,
    band      smallint         NOT NULL CHECK (band >= 0 AND band < 24),
    n         integer          NOT NULL CHECK (n > 0),
    sum_log   double precision NOT NULL,
    PRIMARY KEY (drill, from_cell, to_cell, band)
);

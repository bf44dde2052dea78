-- One outbox relay at a time among the instances sharing the database: the
-- holder renews its lease every poll; another instance takes over only
-- once the lease has expired (the database's clock decides). A lease, not a
-- session advisory lock: a holder whose connection hangs half-open, or whose
-- process is frozen, would keep a session lock for as long as the server
-- believes the session alive.
CREATE TABLE outbox_lease (
    id     int         PRIMARY KEY CHECK (id = 1),
    holder text        NOT NULL,
    until  timestamptz NOT NULL
);
INSERT INTO outbox_lease (id, holder, until) VALUES (1, '', '-infinity');

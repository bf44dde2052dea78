-- People's console tokens, shared by every instance on the database: only
-- the SHA-256 of a token is kept, never the token. A revoked token keeps its
-- row (revoked_at) for the audit trail; every instance reads the table about
-- once a second and closes the consoles of revoked or expired tokens.
CREATE TABLE console_tokens (
    id         text        PRIMARY KEY CHECK (id <> ''),
    name       text        NOT NULL CHECK (name <> ''),
    role       text        NOT NULL CHECK (role IN ('dispatcher', 'team_leader', 'drill')),
    towns      text[]      NOT NULL DEFAULT '{}',
    team       text        NOT NULL DEFAULT '',
    drill      text        NOT NULL DEFAULT '',
    sha256     text        NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX console_tokens_name ON console_tokens (name);

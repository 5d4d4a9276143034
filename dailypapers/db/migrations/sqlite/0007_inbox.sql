-- The inbox: what a reader liked or refused (recommendations), saved searches (alerts), email subscriptions and
-- the outbox every email passes through. Queries are written once for both backends (dailypapers/db/schema.py).

-- "Not for me": a paper the user asked to see less of (upvotes and collections are the positive signals).
CREATE TABLE paper_feedback (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_pk INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_pk)
);
CREATE INDEX ix_paper_feedback_paper ON paper_feedback (paper_pk);

-- Cold start: categories, keywords and seed papers (arXiv ids, stable across `db copy`) a user picked.
CREATE TABLE interests (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    categories TEXT NOT NULL DEFAULT '',
    keywords TEXT NOT NULL DEFAULT '',
    paper_ids TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);

-- A user's recommendation model per embedding model, updated when the user acts (a cache: rebuilt from the
-- signals when missing, so `db copy` leaves it behind).
CREATE TABLE taste_models (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    state BLOB NOT NULL,
    positives INTEGER NOT NULL,
    negatives INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, model)
);

-- The secret of a private Atom feed of one's picks (SHA-256 of the token in the URL; revocable).
CREATE TABLE feed_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX ix_feed_tokens_user_id ON feed_tokens (user_id);

CREATE TABLE saved_searches (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    filters TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX ix_saved_searches_user_id ON saved_searches (user_id);

-- An email subscription, with or without an account. `nonce` changes whenever a signed link is used, so a link
-- signed over an older nonce is spent (no replay).
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'disabled')),
    frequency TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    time_zone TEXT NOT NULL,
    send_hour INTEGER NOT NULL,
    weekends BOOLEAN NOT NULL DEFAULT 0,
    sections TEXT NOT NULL,
    categories TEXT NOT NULL DEFAULT '',
    nonce TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    confirmed_at TEXT,
    unsubscribed_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX ix_subscriptions_user_id ON subscriptions (user_id);
CREATE INDEX ix_subscriptions_status ON subscriptions (status);

-- Every email, recorded before it is sent. (subscription, kind, period) is unique: one digest per subscriber and
-- period, however often or wherever the sender runs.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    subscription_id TEXT REFERENCES subscriptions (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    recipient TEXT NOT NULL,
    message TEXT NOT NULL,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE UNIQUE INDEX ux_outbox_period ON outbox (subscription_id, kind, period);
CREATE INDEX ix_outbox_due ON outbox (status, next_attempt_at);

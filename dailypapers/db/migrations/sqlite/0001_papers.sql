-- Papers, authors, categories, embeddings and the BM25 index (FTS5) of the embedded SQLite backend.
CREATE TABLE papers (
    pk INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    version INTEGER,
    title TEXT NOT NULL,
    title_norm TEXT NOT NULL,
    abstract TEXT NOT NULL,
    author_names TEXT NOT NULL DEFAULT '',
    authors_json TEXT NOT NULL DEFAULT '[]',
    categories TEXT NOT NULL DEFAULT '',
    primary_category TEXT,
    published TEXT,
    updated TEXT,
    added_at TEXT NOT NULL,
    display_date TEXT NOT NULL,
    comment TEXT,
    journal_ref TEXT,
    doi TEXT,
    abs_url TEXT,
    pdf_url TEXT,
    code_url TEXT,
    project_url TEXT,
    upvotes INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    text_hash TEXT NOT NULL
);
CREATE INDEX papers_added_at ON papers (added_at);
CREATE INDEX papers_display_date ON papers (display_date);
CREATE INDEX papers_title_norm ON papers (title_norm);

CREATE TABLE authors (
    pk INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE paper_authors (
    paper_pk INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    author_pk INTEGER NOT NULL REFERENCES authors (pk),
    affiliation TEXT,
    PRIMARY KEY (paper_pk, position)
);
CREATE INDEX paper_authors_author ON paper_authors (author_pk);

CREATE TABLE paper_categories (
    paper_pk INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    category TEXT NOT NULL,
    PRIMARY KEY (paper_pk, category)
);
CREATE INDEX paper_categories_category ON paper_categories (category);

CREATE TABLE embeddings (
    paper_pk INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    model TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (paper_pk, model)
);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- External-content FTS5 table kept in step with papers by triggers; porter stemming so "regularize" finds
-- "regularization".
CREATE VIRTUAL TABLE papers_fts USING fts5 (
    title, abstract, author_names,
    content = 'papers', content_rowid = 'pk',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
    INSERT INTO papers_fts (rowid, title, abstract, author_names)
    VALUES (new.pk, new.title, new.abstract, new.author_names);
END;

CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
    INSERT INTO papers_fts (papers_fts, rowid, title, abstract, author_names)
    VALUES ('delete', old.pk, old.title, old.abstract, old.author_names);
END;

CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract, author_names ON papers BEGIN
    INSERT INTO papers_fts (papers_fts, rowid, title, abstract, author_names)
    VALUES ('delete', old.pk, old.title, old.abstract, old.author_names);
    INSERT INTO papers_fts (rowid, title, abstract, author_names)
    VALUES (new.pk, new.title, new.abstract, new.author_names);
END;

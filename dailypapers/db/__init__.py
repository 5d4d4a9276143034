"""The database layer under every domain: connections through SQLAlchemy Core (:mod:`.engine`), the plain tables
written once for both backends (:mod:`.schema`), versioned migrations, job locks, the shared rate-limit counters
(:mod:`.ratelimits`) and the table-driven copy."""

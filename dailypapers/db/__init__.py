"""The database layer under every domain: connections through SQLAlchemy Core (:mod:`.engine`), the plain tables
written once for both backends (:mod:`.schema`), versioned migrations, job locks and the table-driven copy."""

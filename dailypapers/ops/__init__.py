"""Operations: health and readiness, metrics, structured logs, check and repair, backup and restore."""

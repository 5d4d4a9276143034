"""Papers: the record (:mod:`.models`), periods, the upsert rule (:mod:`.upsert`), the store of each backend
(:mod:`.store`) and the sources papers are imported from (:mod:`.sources`)."""

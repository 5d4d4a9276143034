"""The web's one security layer: every request passes it by default, and an exemption is explicit.

* :mod:`.bodylimit` — request bodies over ``DAILYPAPERS_MAX_BODY_BYTES`` are refused with 413 before they are read
  (``Content-Length``) or as soon as the streamed bytes pass the limit (chunked bodies).
* :mod:`.identity` — who is asking: an API token (``Authorization: Bearer dp_…``), else a session cookie, else
  nobody (and, when anonymous votes are on, an anonymous voter cookie).
* :mod:`.csrf` — on every unsafe method (POST, PUT, PATCH, DELETE) of every route: the origin check, and a CSRF
  token bound to the browser's CSRF cookie and session, unless the request is authenticated by an API token
  (no ambient credential: a cross-site page cannot make a browser send it) or its route is in
  :data:`.csrf.CSRF_EXEMPT` (empty today; a test walks the app's routes and fails on an unprotected one).
* :mod:`.ratelimit` — limits counted in the database, shared by every worker and machine.
* :mod:`.signing` — HMAC signatures (itsdangerous) under the instance's secret key.
"""

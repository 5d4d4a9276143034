"""Email: checked addresses, the mailers (smtp | console | none) and the outbox every message passes through.

* :mod:`dailypapers.mail.addresses` — :func:`check_address`, the one gate for addresses people type;
* :mod:`dailypapers.mail.mailer` — the :class:`Mailer` protocol, its three kinds and the failure classes;
* :mod:`dailypapers.mail.outbox` — record before sending, send at most once per (subscriber, kind, period),
  retry temporary failures with backoff, count permanent ones against the subscription.

The library wires them as ``lib.mailer``, ``lib.outbox`` and ``lib.deliver_soon()``; docs/mail.md is the guide.
"""

"""Migration 0009 on accounts made before it, both backends: admins count as verified, members do not, and the
digest subscriptions linked to members are unlinked (an unproven address owns nothing) while they keep going to
their confirmed addresses. The database is taken back to before 0009 (its columns dropped, its record deleted),
given the rows an older release made, and migrated again with the real file."""

from __future__ import annotations

from sqlalchemy import text

from dailypapers.config import Config
from dailypapers.library import Library

PASSWORD = "correct horse battery"
NAME = "0009_account_email"


def test_accounts_made_before_0009_are_verified_only_if_admins(db_config: Config) -> None:
    lib = Library(db_config)
    try:
        lib.init()
        admin = lib.accounts.create_user("root", "root@example.org", PASSWORD)
        member = lib.accounts.create_user("bob", "bob@example.org", PASSWORD)
        for user in (admin, member):
            sub = lib.subscriptions.subscribe(user.email, user_id=user.id)
            lib.subscriptions.confirm(lib.links.token("confirm", sub))
        with lib.db.write() as conn:  # back to the schema before 0009 (its data as an older release left it)
            conn.execute(text("DROP INDEX ix_outbox_mailbox"))
            conn.execute(text("ALTER TABLE users DROP COLUMN email_verified_at"))
            conn.execute(text("ALTER TABLE users DROP COLUMN pending_email"))
            conn.execute(text("DELETE FROM schema_migrations WHERE name = :n"), {"n": NAME})
        assert NAME in lib.init()

        assert lib.accounts.get("root").email_verified and not lib.accounts.get("bob").email_verified
        assert lib.subscriptions.for_user(admin.id) is not None
        assert lib.subscriptions.for_user(member.id) is None  # unlinked until bob proves the address
        assert {s.email for s in lib.subscriptions.active()} == {"root@example.org", "bob@example.org"}
        token = lib.recovery.verify_token(lib.accounts.get("bob"), "bob@example.org")
        assert lib.account_mail.verify(token).changed
        mine = lib.subscriptions.for_user(member.id)
        assert mine is not None and mine.email == "bob@example.org" and mine.is_active
    finally:
        lib.close()

-- Verified account addresses (issue 21 #11, #12): an address is an account's to mail, and to own a subscription
-- with, only once a link sent to it was opened. A change of address waits in pending_email until its link is used.
-- Accounts made before this release: admins count as verified (the first admin made the instance; the others were
-- made or promoted by an admin); members were never asked to prove their address, so they are not, and the
-- subscriptions linked to them are unlinked (they keep going to their confirmed addresses, managed by their
-- emails' links) until the member verifies the address, which links that address's subscription again.
ALTER TABLE users ADD COLUMN email_verified_at TEXT;
ALTER TABLE users ADD COLUMN pending_email TEXT;
UPDATE users SET email_verified_at = created_at WHERE role = 'admin';
UPDATE subscriptions SET user_id = NULL
    WHERE user_id IS NOT NULL AND user_id IN (SELECT id FROM users WHERE email_verified_at IS NULL);
-- "One confirmation an hour per mailbox" counts the outbox's mails by recipient, case-blind (issue 21 #17).
CREATE INDEX ix_outbox_mailbox ON outbox (lower(recipient), created_at);

"""What people do with papers: votes (and, in later issues, comments, collections and submissions)."""

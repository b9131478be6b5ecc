"""Compose: items → mailing drafts (newsletter digests and press releases)."""

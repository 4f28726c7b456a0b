"""Pledges: intake, confirmation and withdrawal, anti-abuse, the public counter, the release and share links."""

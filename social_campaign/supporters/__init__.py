"""Supporters' data: consent records (``consent.py``), what we hold about a person (``person.py``), erasure."""

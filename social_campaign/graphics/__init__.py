"""Badges and infographic cards: Pillow, pure functions from inputs to images; saving is separate.

- ``images.py``: safe decoding of untrusted photos (formats, limits, orientation, no metadata)
- ``badge.py``: a supporter's photo under the campaign frame; ``batch.py`` runs many over the cores
- ``specs.py``: infographic specs (``infographics/*.toml``), their ``check`` and per-channel media
- ``layout.py`` / ``cards.py``: text that wraps and shrinks to fit; the card renderer
- ``frame.py``: draws the demo campaign's frame; ``files.py``: atomic writes
"""

"""One router per page group; ``web/app.py`` includes them all."""

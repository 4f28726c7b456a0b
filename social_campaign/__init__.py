"""social-campaign: campaign-as-code for advocacy non-profits."""

__version__ = "0.1.0"

"""The web app: the public campaign page, pledge intake, progress.json and the manager dashboard."""

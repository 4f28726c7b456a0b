"""The managers' workspace: accounts and sessions, several campaigns, the dashboard's numbers and charts, and editing
the campaign files in the browser (saved through one pipeline that checks, writes atomically and keeps history)."""

from social_campaign.cli import app

app(prog_name="social-campaign")

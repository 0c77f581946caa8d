"""The mailing-list digest (issue 22): compose.py writes it, send.py sends it over SMTP,
schedule.py sends one each period from a task of its own, never in the relay's lane."""

"""tgirc-bridge: relay a Telegram group and an IRC channel, and keep a members roster."""

__version__ = "0.1.0"

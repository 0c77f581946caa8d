"""python -m bridge: the same as the tgirc-bridge command."""

from bridge.cli import main

raise SystemExit(main())

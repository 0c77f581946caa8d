"""``python -m bench``: run every benchmark and write the results."""

from bench.run import main

raise SystemExit(main())

"""``python -m rxstream`` is the ``rxstream`` command."""

from .cli import main

raise SystemExit(main())

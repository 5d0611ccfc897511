"""`python -m finsig_runner` is `finsig-runner`."""

from finsig_runner.cli.main import main

raise SystemExit(main())

from tagbot.cli import main

raise SystemExit(main())

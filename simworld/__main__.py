from simworld.cli import main

raise SystemExit(main())

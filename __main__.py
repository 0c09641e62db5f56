from bassd.cli import main

raise SystemExit(main())

import sys

from hubdash.cli import main

sys.exit(main())

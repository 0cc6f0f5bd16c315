"""``python -m compressai_plf.theory [--out DIR]``: Gauss-Markov RDP tables, plots and JSON."""

from .report import main

raise SystemExit(main())

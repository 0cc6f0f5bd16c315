"""``python -m compressai_plf.theory.operational``: learned Gauss-Markov codecs vs the theory."""

from .report import main

raise SystemExit(main())

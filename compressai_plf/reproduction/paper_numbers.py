"""Numbers from the training logs published with the PLF paper's code (and a co-author's
reproduction), the comparison points of ``docs/results.md``.

Salehkalaibar et al., "On the choice of perception loss function for learned video
compression", NeurIPS 2023, https://arxiv.org/abs/2305.19301. Moving MNIST, MSE per pixel in
[0, 1]; I-frame 12 bits, P-frames 2 and 16 bits, lambda_p 0.005. The logs do not say whether
the MSE averages the I-frame in; ``docs/results.md`` compares with both of our averages.
"""

from __future__ import annotations

#: head -> {P-frame bits: MSE}
LOW_RATE_IFRAME_MSE = {
    "mse": {2: 0.0143, 16: 0.0086},
    "jd": {2: 0.0234, 16: 0.0181},
    "fmd": {2: 0.0237, 16: 0.0116},
}
#: lossless I-frame, 2-bit P-frames: MMSE vs PLF-JD (lambda_p 0.04), MSE and W1-JD of each
#: run's own critic (not comparable with frozen evaluation critics).
LOSSLESS_IFRAME = {"mse": {"mse": 0.0085, "w1-jd": 4.12}, "jd": {"mse": 0.0184, "w1-jd": 0.376}}

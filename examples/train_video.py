# Copyright (c) 2021-2024, InterDigital Communications, Inc
# All rights reserved.

# Redistribution and use in source and binary forms, with or without
# modification, are permitted (subject to the limitations in the disclaimer
# below) provided that the following conditions are met:

# * Redistributions of source code must retain the above copyright notice,
#   this list of conditions and the following disclaimer.
# * Redistributions in binary form must reproduce the above copyright notice,
#   this list of conditions and the following disclaimer in the documentation
#   and/or other materials provided with the distribution.
# * Neither the name of InterDigital Communications, Inc nor the names of its
#   contributors may be used to endorse or promote products derived from this
#   software without specific prior written permission.

# NO EXPRESS OR IMPLIED LICENSES TO ANY PARTY'S PATENT RIGHTS ARE GRANTED BY
# THIS LICENSE. THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND
# CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT
# NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A
# PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR
# CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL,
# EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO,
# PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS;
# OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY,
# WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR
# OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF
# ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

"""Train video codecs with compressai_plf's objectives (adapted from CompressAI's
``examples/train_video.py``).

Stages of the PLF recipe (Salehkalaibar et al., NeurIPS 2023,
https://arxiv.org/abs/2305.19301): ``mse`` (rate-distortion), ``iframe`` (the shared
perceptual I-frame decoder), ``plf`` (end-to-end perceptual fine-tuning), ``universal``
(perceptual heads on the frozen encoder), ``recon3d`` (MSE + LPIPS + 3D GAN). Everything is
looked up in CompressAI's registries (``--model``, ``--criterion``, ``--dataset``);
``--config zoo/<recipe>.json`` reads a recipe (which names its zoo preset, see zoo/README.md),
flags override it.

Examples::

    python examples/train_video.py --config zoo/ssf_plf-fixed-q1-mse.json -d DATA/mnist
    python examples/train_video.py --config zoo/ssf_plf-fixed-q1-mse.json -d DATA/mnist --resume
    torchrun --nproc_per_node 2 examples/train_video.py --config ... # multi-process (gloo on CPU)
"""

import json
import sys

import compressai_plf  # noqa: F401  (registers models, criteria, datasets)
from compressai_plf.training.cli import parse_args
from compressai_plf.training.trainer import train
from compressai_plf.utils.cli_errors import one_line_errors


def main(argv):
    args = parse_args(argv)
    with one_line_errors():  # bad input, a full disk, a diverged run: one line, no traceback
        summary = train(args)
    print(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])

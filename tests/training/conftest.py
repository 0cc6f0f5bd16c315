"""Tiny training configurations (CPU, seconds)."""

from __future__ import annotations

import pytest

from compressai_plf.training.cli import finalize
from compressai_plf.training.trainer import namespace
from compressai_plf.zoo.presets import tiny_architecture

TINY_FIXED = {**tiny_architecture("fixed"), "mid_planes": 8, "latent_planes": 2, "levels": 2}
TINY_HYPER = {
    **tiny_architecture("hyperprior"),
    "channels": 1,
    "mid_planes": 8,
    "latent_planes": 8,
    "hyper_planes": 8,
    "decoders": ("mse",),
}


@pytest.fixture
def tiny_args(mnist_root, tmp_path):
    def make(**kw):
        base = dict(
            data_root=str(mnist_root),
            model_args=dict(TINY_FIXED),
            steps=2,
            batch_size=4,
            eval_interval=0,
            eval_batch_size=4,
            checkpoint_interval=1,
            log_interval=1,
            critic_steps=1,
            save_dir=str(tmp_path / "run"),
            dataset_args={"train_size": 64},
            critic_args={"widths": [8, 16, 16, 16]},
        )
        base.update(kw)
        args = namespace(**base)
        args.patch_size = [args.patch_size] if isinstance(args.patch_size, int) else args.patch_size
        args.critic_steps = base["critic_steps"]
        return finalize(args)

    return make

from pathlib import Path

import lpips
import pytest
import torch
import torchvision
from compressai.registry import MODULES
from torch import nn

from compressai_plf.checkpoint import CheckpointError
from compressai_plf.modules import BACKBONE_FILES, FrozenLPIPS

# lpips builds its trunk with torchvision's deprecated ``pretrained=`` argument.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:torchvision")

HEADS = Path(lpips.__file__).parent / "weights" / "v0.1" / "alex.pth"


@pytest.fixture(scope="module")
def random_alex():
    return FrozenLPIPS(backbone=lpips.pretrained_networks.alexnet(pretrained=False))


def test_missing_weights_raise_naming_the_file(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere.pth"
    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        FrozenLPIPS(weights=missing)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(FileNotFoundError, match=BACKBONE_FILES["vgg"]):
        MODULES["FrozenLPIPS"](net="vgg")


def test_loads_trunk_from_path_and_from_hub_cache(tmp_path, monkeypatch):
    features = torchvision.models.alexnet(weights=None).features
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    path = tmp_path / "checkpoints" / BACKBONE_FILES["alex"]
    path.parent.mkdir()
    torch.save(state, path)
    for m in (FrozenLPIPS(weights=path), None):
        if m is None:
            monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
            m = FrozenLPIPS()
        assert torch.equal(getattr(m.model.net.slice1, "0").weight, features[0].weight)
        assert torch.equal(getattr(m.model.net.slice5, "10").bias, features[10].bias)
        assert m.weights_path == str(path)
    del state["features.8.weight"]
    torch.save(state, path)
    with pytest.raises(ValueError, match="features.8.weight"):
        FrozenLPIPS(weights=path)
    path.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="LPIPS backbone weight file"):
        FrozenLPIPS(weights=path)


def test_calibrated_heads_loaded(random_alex):
    heads = torch.load(HEADS, map_location="cpu")
    for i in range(5):
        assert torch.equal(
            getattr(random_alex.model, f"lin{i}").model[1].weight, heads[f"lin{i}.model.1.weight"]
        )


def test_frozen_and_eval_whatever_the_parent(random_alex):
    parent = nn.Sequential(nn.Conv2d(3, 3, 1), random_alex)
    parent.train()
    assert random_alex.training and not random_alex.model.training
    assert not any(m.training for m in random_alex.model.modules())
    assert not any(p.requires_grad for p in random_alex.parameters())
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    # Dropout in the heads would make repeated calls differ in train mode.
    assert torch.equal(random_alex(x, y), random_alex(x, y))


def test_distance_properties(random_alex):
    x = torch.rand(3, 3, 32, 32, requires_grad=True)
    y = torch.rand(3, 3, 32, 32)
    d = random_alex(x, y)
    assert d.shape == (3,) and (d > 0).all()
    assert torch.allclose(random_alex(y, y), torch.zeros(3), atol=1e-6)
    d.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # [0, 1] inputs: the wrapper rescales to [-1, 1] as lpips expects.
    ref = random_alex.model(2 * x.detach() - 1, 2 * y - 1).flatten()
    assert torch.allclose(random_alex(x.detach(), y), ref)
    g = torch.rand(2, 1, 32, 32)
    assert torch.allclose(
        random_alex(g, g * 0.5), random_alex(g.expand(-1, 3, -1, -1), g.expand(-1, 3, -1, -1) * 0.5)
    )


def test_bad_inputs(random_alex):
    with pytest.raises(ValueError, match="trunk"):
        FrozenLPIPS(net="resnet")
    with pytest.raises(ValueError, match="equal shape"):
        random_alex(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 16, 16))


@pytest.mark.skipif(
    not (Path(torch.hub.get_dir()) / "checkpoints" / BACKBONE_FILES["alex"]).is_file(),
    reason="AlexNet weights not in torch's hub cache",
)
def test_real_lpips_orders_distortions():
    m = FrozenLPIPS()
    x = torch.rand(1, 3, 64, 64).clamp(0.2, 0.8)
    small, large = x + 0.02 * torch.randn_like(x), x + 0.2 * torch.randn_like(x)
    assert m(x, small) < m(x, large)

"""Vision programs written for PyTorch run under minigrad with only their imports changed: a
U-Net-style segmenter (Conv2d, GroupNorm, MaxPool2d, ConvTranspose2d, skip connections,
F.interpolate, BCEWithLogitsLoss) and a ResNet-style classifier (residual blocks with
BatchNorm2d and a strided 1x1 shortcut, AdaptiveAvgPool2d, SGD with momentum and StepLR). Each
must learn under both frameworks, with the same parameters (state_dict keys and shapes)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.examples.test_pytorch_script import _run

UNET_SCRIPT = """import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)

# 16x16 noisy images with one bright square; the target is the square's mask
def make_batch(n):
    images = torch.randn(n, 1, 16, 16) * 0.3
    masks = torch.zeros(n, 1, 16, 16)
    corners = torch.randint(0, 10, (n, 2))
    for k in range(n):
        r, c = corners[k].tolist()
        images[k, 0, r:r + 6, c:c + 6] += 1.0
        masks[k, 0, r:r + 6, c:c + 6] = 1.0
    return images, masks


def block(c_in, c_out):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.GroupNorm(4, c_out),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down1 = block(1, 8)
        self.down2 = block(8, 16)
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)
        self.fuse = block(16, 8)
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        skip = self.down1(x)                      # [N, 8, 16, 16]
        deep = self.down2(self.pool(skip))        # [N, 16, 8, 8]
        up = self.up(deep)                        # [N, 8, 16, 16]
        coarse = F.interpolate(deep[:, :8], scale_factor=2, mode="bilinear", align_corners=False)
        x = self.fuse(torch.cat([skip, up + coarse], dim=1))
        return self.head(x)


model = UNet()
optimizer = optim.Adam(model.parameters(), lr=3e-3)
criterion = nn.BCEWithLogitsLoss()
images, masks = make_batch(64)
losses = []
for step in range(60):
    optimizer.zero_grad()
    loss = criterion(model(images), masks)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

model.eval()
test_images, test_masks = make_batch(32)
with torch.no_grad():
    predicted = (model(test_images) > 0).float()
    intersection = (predicted * test_masks).sum().item()
    union = ((predicted + test_masks) > 0).float().sum().item()
    iou = intersection / union
"""

RESNET_SCRIPT = """import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

# four classes of 12x12 images: horizontal, vertical, diagonal stripes, or a blob
def make_data(n):
    labels = torch.randint(0, 4, (n,))
    rows = torch.arange(12).view(12, 1).float()
    cols = torch.arange(12).view(1, 12).float()
    patterns = torch.stack([
        torch.sin(rows * 1.5).expand(12, 12),
        torch.sin(cols * 1.5).expand(12, 12),
        torch.sin((rows + cols) * 1.1),
        torch.exp(-((rows - 6) ** 2 + (cols - 6) ** 2) / 8.0) * 2 - 0.5,
    ])
    images = patterns[labels].unsqueeze(1) + 0.4 * torch.randn(n, 1, 12, 12)
    return images, labels


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


model = ResNet()
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
train_x, train_y = make_data(256)
loader = DataLoader(TensorDataset(train_x, train_y), batch_size=32, shuffle=True)
losses = []
for epoch in range(6):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()

model.eval()
test_x, test_y = make_data(128)
with torch.no_grad():
    accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
"""


def _unet_learned(env: dict) -> bool:
    return np.mean(env["losses"][-5:]) < 0.5 * np.mean(env["losses"][:5]) and env["iou"] > 0.6


def _resnet_learned(env: dict) -> bool:
    return np.mean(env["losses"][-4:]) < 0.5 * np.mean(env["losses"][:4]) and env["accuracy"] > 0.9


PROGRAMS = {"unet": (UNET_SCRIPT, _unet_learned), "resnet": (RESNET_SCRIPT, _resnet_learned)}


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_learns_with_only_imports_changed(name):
    script, learned = PROGRAMS[name]
    env = _run(script, minigrad=True)
    assert learned(env), (env["losses"][:4], env["losses"][-4:])


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_builds_the_same_parameters_and_learns_under_torch(name):
    pytest.importorskip("torch")
    script, learned = PROGRAMS[name]
    ours, theirs = _run(script, minigrad=True), _run(script, minigrad=False)
    shapes = lambda env: [(k, tuple(v.shape)) for k, v in env["model"].state_dict().items()]
    assert shapes(ours) == shapes(theirs)
    assert learned(theirs), (theirs["losses"][:4], theirs["losses"][-4:])

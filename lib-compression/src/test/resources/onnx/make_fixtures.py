#!/usr/bin/python3
"""Writes the ONNX import fixtures with a real foreign exporter (PyTorch's torch.onnx.export).

Small networks of the operators the importer converts, with random weights and random batch norm
statistics (nothing is trained), each exported at another opset, with a fixed input and PyTorch's
output for it:  <name>.onnx, <name>.input.npy, <name>.output.npy.  The files are committed, so the
build needs no Python; rerun after changing a network:

    apt-get install -y python3-torch python3-onnx && /usr/bin/python3 make_fixtures.py
"""
import os

import numpy as np
import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def randomize_batch_norms(model, generator):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = 0.5 + torch.rand(c, generator=generator)
            m.bias.data = torch.randn(c, generator=generator) * 0.1
            m.running_mean = torch.randn(c, generator=generator) * 0.1
            m.running_var = 0.5 + torch.rand(c, generator=generator)


def cbr(cin, cout, k=3, stride=1, act=None):
    layers = [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act)
    return nn.Sequential(*layers)


class Residual(nn.Module):
    """Conv-BN-ReLU stem, a residual block, a strided ReLU6 conv, max pooling, GAP, a dense layer (logits)."""

    def __init__(self):
        super().__init__()
        self.stem = cbr(1, 8, act=nn.ReLU())
        self.body = nn.Sequential(cbr(8, 8, act=nn.ReLU()), cbr(8, 8))
        self.relu = nn.ReLU()
        self.down = cbr(8, 16, stride=2, act=nn.ReLU6())
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.stem(x)
        x = self.relu(self.body(x) + x)
        x = self.pool(self.down(x))
        return self.fc(self.drop(torch.flatten(self.gap(x), 1)))


class Depthwise(nn.Module):
    """Depthwise-separable block with ReLU6 and LeakyReLU, average pooling, a flattened dense layer, softmax."""

    def __init__(self):
        super().__init__()
        self.stem = cbr(1, 8, act=nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.pw = cbr(8, 16, k=1, act=nn.LeakyReLU(0.1))
        self.pool = nn.AvgPool2d(4, count_include_pad=False)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = self.pool(self.pw(self.dw(self.stem(x))))
        return torch.softmax(self.fc(x.reshape(-1, 16 * 7 * 7)), dim=1)


class Concat(nn.Module):
    """Two branches (ReLU, sigmoid) concatenated along channels, GAP, a MatMul + Add classifier."""

    def __init__(self):
        super().__init__()
        self.stem = cbr(1, 8, act=nn.ReLU())
        self.a = cbr(8, 4, k=1, act=nn.ReLU())
        self.b = cbr(8, 6, act=nn.Sigmoid())
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.w = nn.Parameter(torch.randn(10, 10) * 0.3)
        self.bias = nn.Parameter(torch.randn(10) * 0.1)

    def forward(self, x):
        x = self.stem(x)
        x = torch.cat([self.a(x), self.b(x)], dim=1)
        return torch.matmul(torch.flatten(self.gap(x), 1), self.w) + self.bias


def export(name, model, opset, seed):
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    randomize_batch_norms(model, generator)
    model.eval()
    x = torch.randn(3, 1, 28, 28, generator=generator)
    path = os.path.join(HERE, name + ".onnx")
    # PRESERVE keeps each batch norm a node of its own (EVAL folds them into the convolutions)
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    with torch.no_grad():
        np.save(os.path.join(HERE, name + ".input.npy"), x.numpy())
        np.save(os.path.join(HERE, name + ".output.npy"), model(x).numpy())
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(name, "opset", opset, ops)


if __name__ == "__main__":
    export("torch-residual", Residual(), 11, 1)
    export("torch-depthwise", Depthwise(), 13, 2)
    export("torch-concat", Concat(), 17, 3)

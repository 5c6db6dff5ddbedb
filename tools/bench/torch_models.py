"""The yardstick: scripts 2-5's models in PyTorch on the CPU, same shapes, pooling, dropout and optimiser.

Differences that cost nothing measurable: PyTorch's cross-entropy takes logits (log-softmax fused),
and its RMSprop adds eps outside the square root (Theano's scripts: sqrt(acc + eps)).
"""
import torch
from torch import nn


def weights(*shape):
    return nn.Parameter(torch.randn(*shape) * 0.01)


class Logistic(nn.Module):  # 2_logistic_regression
    def __init__(self):
        super().__init__()
        self.w = weights(784, 10)

    def forward(self, X):
        return X @ self.w


class OldNet(nn.Module):  # 3_net
    def __init__(self):
        super().__init__()
        self.w_h, self.w_o = weights(784, 625), weights(625, 10)

    def forward(self, X):
        return torch.sigmoid(X @ self.w_h) @ self.w_o


class ModernNet(nn.Module):  # 4_modern_net
    def __init__(self):
        super().__init__()
        self.w_h, self.w_h2, self.w_o = weights(784, 625), weights(625, 625), weights(625, 10)
        self.drop_input, self.drop_hidden = nn.Dropout(0.2), nn.Dropout(0.5)

    def forward(self, X):
        h = torch.relu(self.drop_input(X) @ self.w_h)
        h2 = torch.relu(self.drop_hidden(h) @ self.w_h2)
        return self.drop_hidden(h2) @ self.w_o


class ConvNet(nn.Module):  # 5_convolutional_net
    def __init__(self):
        super().__init__()
        self.w, self.w2, self.w3 = weights(32, 1, 3, 3), weights(64, 32, 3, 3), weights(128, 64, 3, 3)
        self.w4, self.w_o = weights(1152, 625), weights(625, 10)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)  # = pool_2d(ignore_border=False)
        self.drop_conv, self.drop_hidden = nn.Dropout(0.2), nn.Dropout(0.5)

    def forward(self, X):
        F = nn.functional
        l1 = self.drop_conv(self.pool(torch.relu(F.conv2d(X, self.w, padding=2))))  # 'full'
        l2 = self.drop_conv(self.pool(torch.relu(F.conv2d(l1, self.w2))))
        l3 = self.drop_conv(self.pool(torch.relu(F.conv2d(l2, self.w3))).flatten(1))
        l4 = self.drop_hidden(torch.relu(l3 @ self.w4))
        return l4 @ self.w_o


MODELS = {  # script -> (model, optimiser)
    "2_logistic_regression": (Logistic, lambda p: torch.optim.SGD(p, lr=0.05)),
    "3_net": (OldNet, lambda p: torch.optim.SGD(p, lr=0.05)),
    "4_modern_net": (ModernNet, lambda p: torch.optim.RMSprop(p, lr=0.001, alpha=0.9, eps=1e-6)),
    "5_convolutional_net": (ConvNet, lambda p: torch.optim.RMSprop(p, lr=0.001, alpha=0.9, eps=1e-6)),
}


def build(script):
    """(train, predict) for a script's model: train(x, y) does one step on numpy arrays."""
    model_class, optimiser = MODELS[script]
    model = model_class()
    opt = optimiser(model.parameters())
    loss = nn.CrossEntropyLoss()

    def train(x, y):
        model.train()
        opt.zero_grad()
        cost = loss(model(torch.from_numpy(x)), torch.from_numpy(y.argmax(axis=1)))
        cost.backward()
        opt.step()
        return cost.item()

    def predict(x):
        model.eval()
        with torch.no_grad():
            return model(torch.from_numpy(x)).argmax(dim=1).numpy()

    return train, predict

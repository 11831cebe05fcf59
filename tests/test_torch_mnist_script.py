"""A compact script in the shape of PyTorch's classic MNIST example, run with
`import minnet as torch`: a CNN with Dropout2d/Dropout, log_softmax + nll_loss, Adadelta with
StepLR(step_size=1, gamma=0.7), the device idiom, `.to(device)`, a Python map-style dataset
fed by a 2-worker DataLoader, and `torch.save(model.state_dict(), "mnist_cnn.pt")` reloaded.

Written for this test (not copied), on 600 images of the embedded Fashion-MNIST subset (the
machine has no MNIST); 3 epochs reach 0.73-0.77 test accuracy on 500 test images over seeds,
asserted >= 0.68.
"""

import numpy as np

import minnet as torch
import minnet.nn as nn
import minnet.nn.functional as F
import minnet.optim as optim
from minnet.datasets import fashion_mnist
from minnet.optim.lr_scheduler import StepLR
from minnet.utils.data import DataLoader, Dataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(16 * 12 * 12, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


class Images(Dataset):
    """What a torchvision dataset with ToTensor + Normalize hands out, item by item."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        img = torch.tensor(self.x[i], dtype=torch.float).unsqueeze(0) / 255.0
        return (img - 0.2860) / 0.3530, int(self.y[i])


def train(model, device, train_loader, optimizer):
    model.train()
    for data, target in train_loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
    return loss.item()


def evaluate(model, device, test_loader):  # the example's test(); renamed for pytest
    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    n = len(test_loader.dataset)
    return test_loss / n, correct / n


def test_mnist_example_shaped_script(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(subset=True)
    torch.manual_seed(1)
    use_accel = torch.accelerator.is_available()
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    assert device == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_kwargs = {
        "batch_size": 32,
        "shuffle": True,
        "num_workers": 2,
        "pin_memory": True,
        "persistent_workers": True,
        "timeout": 60,
    }
    train_loader = DataLoader(Images(x_train[:600], y_train[:600]), **train_kwargs)
    test_loader = DataLoader(Images(x_test[:500], y_test[:500]), batch_size=250)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    lrs, losses = [], []
    for epoch in range(1, 4):
        lrs.append(scheduler.get_last_lr()[0])
        losses.append(train(model, device, train_loader, optimizer))
        scheduler.step()
    test_loss, accuracy = evaluate(model, device, test_loader)
    print(f"3 epochs: test loss {test_loss:.3f}, accuracy {accuracy:.3f}")
    np.testing.assert_allclose(lrs, [1.0, 0.7, 0.49])
    assert accuracy >= 0.68, accuracy
    assert test_loss < 1.0

    torch.save(model.state_dict(), "mnist_cnn.pt")
    again = Net().to(device)
    again.load_state_dict(torch.load("mnist_cnn.pt", weights_only=True, map_location=device))
    assert evaluate(again, device, test_loader) == (test_loss, accuracy)

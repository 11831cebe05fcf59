"""The '2 Conv + pooling' Fashion-MNIST model (5x5 convs, Dense 1024, dropout) with Adam.

The model of TensorFlow's layers tutorial, listed in the Fashion-MNIST benchmark table at
91.6%: two 5x5 convolutions (32 and 64 filters, 'same' padding) each followed by relu and a
2x2 max-pool, then a 1024-unit relu layer with dropout 0.4 and 10 output scores. It has 3.3
million parameters, 97% of them in the first Linear layer (3136 x 1024): convolutions are
cheap in parameters, dense layers on large feature maps are not. Dropout zeroes 40% of the
1024 activations at random in each training step (and scales the rest by 1 / 0.6), which
keeps the big layer from memorising; ``model.eval()`` switches it off for testing. 8 epochs
of Adam (lr 1e-3, batches of 128) on the full Fashion-MNIST reach about 92%."""

import sys

import minnet
from minnet import nn
from minnet.examples import _common
from minnet.examples.cnn import make_loaders, train


def tfdoc_cnn(nn=nn):
    """28x28 -> 14x14 (32 channels) -> 7x7 (64 channels) -> 3136 -> 1024 -> 10; ``nn`` as
    :func:`~minnet.examples.cnn.lecture_cnn`'s (minnet.nn, or torch.nn)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 1024),
        nn.ReLU(),
        nn.Dropout(0.4),
        nn.Linear(1024, 10),
    )


def run(quick=False, epochs=None, threads=None, seed=0, out_dir=".", verbose=1):
    # %% [markdown]
    # ## The data
    # Full Fashion-MNIST when its files are found; `--quick` takes 2,000 training images of
    # the embedded subset (and its 1,000 test images).
    # %%
    _common.setup(threads, seed)
    (x_train, y_train), (x_test, y_test), data = _common.image_data(
        quick, n_train=2000 if quick else None
    )
    epochs = epochs or (1 if quick else 8)
    train_loader, test_loader = make_loaders(x_train, y_train, x_test, y_test)

    # %% [markdown]
    # ## The model
    # %%
    model = tfdoc_cnn()
    print(model)
    for name, p in model.named_parameters():
        print(f"  {name:10} {str(p.shape):18} {p.numel():>9,}")
    print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")
    loss_fn = nn.CrossEntropyLoss()
    optimizer = minnet.optim.Adam(model.parameters(), lr=1e-3)

    # %% [markdown]
    # ## The training loop (the same as the lecture CNN's)
    # `train` from `minnet.examples.cnn`: its `model.train()` turns dropout on for each epoch,
    # and the test pass's `model.eval()` turns it off.
    # %%
    test_acc = train(model, loss_fn, optimizer, train_loader, test_loader, epochs, verbose)
    return _common.report("cnn_tfdoc", accuracy=test_acc, epochs=epochs, data=data)


main = _common.main_for("cnn_tfdoc", run)

if __name__ == "__main__":
    sys.exit(main())

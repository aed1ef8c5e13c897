"""Default torch modules for :class:`~sksoft.neural_network.SoftNeuralNetClassifier`.

Both return *logits*; the classifier's loss (cross-entropy with probability targets) and its
``predict_proba`` (softmax) take care of the rest. ``input_units`` / ``in_channels`` and
``output_units`` are filled in from the data at ``fit`` when left as None.
"""

import numbers

from ._optional import import_optional
from ._validation import Interval, check_scalar

torch = import_optional("torch", extra="torch", purpose="sksoft.nn")
nn = torch.nn

__all__ = ["MLP", "SmallCNN"]

_UNITS = Interval(numbers.Integral, 1, None, closed="left")
_DROPOUT = Interval(numbers.Real, 0, 1, closed="both")


class MLP(nn.Module):
    """Multi-layer perceptron with ReLU and dropout.

    Parameters
    ----------
    input_units : int, optional
        Number of input features (inferred at fit).
    output_units : int, optional
        Number of classes (inferred at fit).
    hidden_units : int or tuple of int, default=(128,)
        Width of each hidden layer (positive; an empty tuple: no hidden layer).
    dropout : float in [0, 1], default=0.1
    """

    def __init__(self, input_units=None, output_units=None, hidden_units=(128,), dropout=0.1):
        super().__init__()
        if input_units is None or output_units is None:
            raise ValueError("MLP needs input_units and output_units (inferred when used "
                             "through SoftNeuralNetClassifier).")
        check_scalar(input_units, "input_units", _UNITS)
        check_scalar(output_units, "output_units", _UNITS)
        check_scalar(dropout, "dropout", _DROPOUT)
        if _UNITS.is_type(hidden_units):
            hidden_units = (hidden_units,)
        if not isinstance(hidden_units, (tuple, list)) or not all(
                _UNITS.is_type(h) for h in hidden_units):
            raise TypeError(f"hidden_units must be an int or a tuple of ints; got "
                            f"{hidden_units!r}.")
        for h in hidden_units:
            check_scalar(h, "each of hidden_units", _UNITS)
        hidden_units = tuple(int(h) for h in hidden_units)
        layers = []
        width = input_units
        for h in hidden_units:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, output_units))
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X.reshape(X.shape[0], -1))


class SmallCNN(nn.Module):
    """A small convolutional network for images of shape (channels, height, width).

    Two (conv-BN-ReLU) x 2 + max-pool stages, global average pooling and a linear head; about
    0.3M parameters at the defaults, enough for CIFAR-10-sized inputs.

    Parameters
    ----------
    in_channels : int, optional
        Image channels (inferred at fit from ``X.shape[1]``).
    output_units : int, optional
        Number of classes (inferred at fit).
    width : int, default=32
        Channels of the first stage (the second has ``2 * width``).
    dropout : float in [0, 1], default=0.2
    """

    def __init__(self, in_channels=None, output_units=None, width=32, dropout=0.2):
        super().__init__()
        if in_channels is None or output_units is None:
            raise ValueError("SmallCNN needs in_channels and output_units.")
        check_scalar(in_channels, "in_channels", _UNITS)
        check_scalar(output_units, "output_units", _UNITS)
        check_scalar(width, "width", _UNITS)
        check_scalar(dropout, "dropout", _DROPOUT)

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]

        self.features = nn.Sequential(
            *block(in_channels, width), *block(width, width), nn.MaxPool2d(2),
            *block(width, 2 * width), *block(2 * width, 2 * width), nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * width, output_units))

    def forward(self, X):
        z = self.features(X)
        return self.head(torch.flatten(z.mean(dim=(2, 3)), 1))

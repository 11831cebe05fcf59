"""Plain NumPy references for every kernel in minnet.kernels: same names, same signatures, same
return values. They are the specification: written to be read, not to be fast."""
from minnet.reference.gemm import colsum, gemm
from minnet.reference.eltwise import (ACT_BACKWARD_INPUT, act_backward, act_forward,
                                      bce_with_logits_backward, bce_with_logits_forward,
                                      cross_entropy_backward, cross_entropy_forward, softmax,
                                      softmax_backward)
from minnet.reference.optim import adagrad_step, adam_step, rmsprop_step, sgd_step

__all__ = ["gemm", "colsum",
           "act_forward", "act_backward", "ACT_BACKWARD_INPUT", "softmax", "softmax_backward",
           "cross_entropy_forward", "cross_entropy_backward",
           "bce_with_logits_forward", "bce_with_logits_backward",
           "sgd_step", "adam_step", "rmsprop_step", "adagrad_step"]

from minnet.reference.rnn import (gru_backward, gru_forward, lstm_backward, lstm_forward,
                                  rnn_backward, rnn_forward)
__all__ += ["gru_forward", "gru_backward", "rnn_forward", "rnn_backward", "lstm_forward",
            "lstm_backward"]

from minnet.reference.conv import (conv2d_backward, conv2d_forward,
                                   conv2d_relu_maxpool2d_forward)
from minnet.reference.pool import (adaptive_avg_pool2d_backward, adaptive_avg_pool2d_forward,
                                   avg_pool2d_backward, avg_pool2d_forward,
                                   max_pool2d_backward, max_pool2d_forward)
__all__ += ["conv2d_forward", "conv2d_backward", "conv2d_relu_maxpool2d_forward",
            "max_pool2d_forward", "max_pool2d_backward",
            "avg_pool2d_forward", "avg_pool2d_backward", "adaptive_avg_pool2d_forward",
            "adaptive_avg_pool2d_backward"]

from minnet.reference.norm import batch_norm_backward, batch_norm_forward
__all__ += ["batch_norm_forward", "batch_norm_backward"]

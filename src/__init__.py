"""Remaining Useful Life estimation on N-CMAPSS and C-MAPSS turbofan data.

Data loading, scaling and windowing, hand-written autograd layers, the CNN and LSTM
models, training with checkpoints, metrics and the comparison used by the notebooks.
"""

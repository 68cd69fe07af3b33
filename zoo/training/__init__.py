"""The training loop every task shares: callbacks, distribution, snapshots, TensorBoard images."""

"""The beta-VAE task: one VAE on MNIST for every beta (model, serving signatures, images)."""

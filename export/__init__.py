"""SavedModel exporters for TF Serving, with loss weights as named serving inputs."""

"""TF Serving clients (gRPC and REST) for exported yoto_tf models; not yet implemented."""

"""TF Serving clients (gRPC and REST) for exported yoto_tf models, and client-side range coding for the codec; see serving/README.md."""

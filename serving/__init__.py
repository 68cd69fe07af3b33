"""TF Serving clients (gRPC, REST) for exported yoto_tf models; see serving/README.md."""

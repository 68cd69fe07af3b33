"""`make web`: the released models in a local web page, on 127.0.0.1 only.

    python -m web.main [--port=8040] [--serving_dir=runs/web/serving]
    python -m web.main --grpc=localhost:8500      # predictions from a ModelServer
    python -m web.main --rest=http://localhost:8501

The first start exports the three releases to --serving_dir (a few minutes; again only
when a release changes). A ModelServer given by address must serve that directory's
models (`tensorflow_model_server --model_config_file=SERVING_DIR/models.config`, whose
stock-op models are the ones the page calls); the page's style thumbnails and MNIST
digits come from this machine either way.
"""

from __future__ import annotations

from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_integer("port", 8040, "Port on 127.0.0.1 (0: any free port).")
flags.DEFINE_string("serving_dir", "runs/web/serving", "Where the releases are exported.")
flags.DEFINE_string("grpc", None, "A ModelServer's gRPC address (host:port) to predict on.")
flags.DEFINE_string("rest", None, "A ModelServer's REST URL (http://host:port) to predict on.")
flags.DEFINE_float("timeout", 60.0, "Deadline of each call to a ModelServer, in seconds.")
FLAGS = flags.FLAGS


def main(argv):
    """Exports if needed, warms the models up, then serves until interrupted."""
    del argv
    from web import server

    if FLAGS.grpc and FLAGS.rest:
        raise app.UsageError("Give --grpc or --rest, not both.")
    httpd, url = server.start(
        FLAGS.serving_dir, FLAGS.port, grpc=FLAGS.grpc, rest=FLAGS.rest, timeout=FLAGS.timeout
    )
    where = FLAGS.grpc or FLAGS.rest or "in this process"
    print(f"yoto web: {url}/  (models {where}; Ctrl-C stops it)", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    app.run(main)

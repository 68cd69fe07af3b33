import contextlib
import io
import json
import pathlib
import subprocess
import sys

import pytest
import tensorflow as tf

import zoo
from zoo import loading
from zoo.training import train_lib

keras = tf.keras
REPO = pathlib.Path(__file__).resolve().parents[3]


class TrainLibTest(tf.test.TestCase):
    def assert_resuming_with_a_fixed_beta_is_refused(self, model_dir):
        with self.assertRaisesRegex(ValueError, "different task, config, seed or precision"):
            train_lib.train(
                "beta_vae",
                model_dir,
                steps=4,
                runlocal=True,
                config_overrides={"fixed_beta": 4.0},
                verbose=0,
            )

    def test_training_writes_config_checkpoints_and_scalars(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "run"
        train_lib.train("beta_vae", model_dir, steps=6, runlocal=True, log_every=3, verbose=0)
        record = json.loads((model_dir / "config.json").read_text())
        self.assertEqual(record["task"], "beta_vae")
        self.assertEqual(tf.train.latest_checkpoint(str(model_dir / "checkpoints"))[-6:], "ckpt-6")
        events = list((model_dir / "train").glob("events.out.tfevents.*"))
        self.assertNotEmpty(events)
        tags = {
            value.tag
            for event in tf.compat.v1.train.summary_iterator(str(events[0]))
            for value in event.summary.value
        }
        self.assertContainsSubset({"loss/loss", "loss/reconstruction", "loss/kl"}, tags)

    def test_a_second_run_resumes_from_the_checkpoint(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "resume"
        first = train_lib.train("beta_vae", model_dir, steps=4, runlocal=True, verbose=0)
        weights_after_first = [w.numpy() for w in first.weights]
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            second = train_lib.train("beta_vae", model_dir, steps=4, runlocal=True, verbose=1)
        self.assertEqual(int(second.optimizer.iterations.numpy()), 4)
        self.assertIn("already holds 4 of 4 steps: nothing to train", printed.getvalue())
        # The weight sampler's random stream is restored too, not restarted.
        self.assertAllEqual(second.generator.state, first.generator.state)
        for a, b in zip(weights_after_first, second.weights, strict=True):
            self.assertAllClose(a, b.numpy())
        third = train_lib.train("beta_vae", model_dir, steps=7, runlocal=True, verbose=0)
        self.assertEqual(int(third.optimizer.iterations.numpy()), 7)

    def test_a_resumed_run_removes_the_staging_folder_of_an_interrupted_save(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "interrupted"
        train_lib.train("beta_vae", model_dir, steps=2, runlocal=True, verbose=0)
        # What a SIGKILL during the next save leaves: shards staged, never merged.
        staging = model_dir / "checkpoints" / "ckpt-3_temp"
        staging.mkdir()
        (staging / "part-00000-of-00001.data-00000-of-00001.tempstate8151").write_bytes(b"half")
        resumed = train_lib.train("beta_vae", model_dir, steps=3, runlocal=True, verbose=0)
        self.assertEqual(int(resumed.optimizer.iterations.numpy()), 3)
        self.assertFalse(staging.exists())
        self.assertEqual(tf.train.latest_checkpoint(str(model_dir / "checkpoints"))[-6:], "ckpt-3")

    def test_a_run_stopped_and_resumed_ends_where_an_uninterrupted_run_ends(self):
        # The beta-VAE's CPU ops are deterministic (the codec's are not: two identical codec
        # runs differ by ~2e-4 after six steps), so the parameters must match exactly.
        root = pathlib.Path(self.get_temp_dir())
        options = dict(runlocal=True, log_every=2, checkpoint_every=2, verbose=0)
        straight = train_lib.train("beta_vae", root / "straight", steps=6, **options)
        train_lib.train("beta_vae", root / "resumed", steps=2, **options)
        resumed = train_lib.train("beta_vae", root / "resumed", steps=6, **options)
        # Same weights, sampler stream and data position: the same parameters.
        for a, b in zip(straight.weights, resumed.weights, strict=True):
            self.assertAllEqual(a.numpy(), b.numpy(), msg=a.name)

    def spend_the_budget_in_one_chunk(self, name, **kwargs):
        model_dir = pathlib.Path(self.get_temp_dir()) / name
        model = train_lib.train(
            "beta_vae",
            model_dir,
            steps=100,
            runlocal=True,
            log_every=3,
            max_seconds=1e-9,
            verbose=0,
            **kwargs,
        )
        return model, model_dir

    def test_a_spent_time_budget_stops_after_the_chunk_with_a_checkpoint(self):
        model, model_dir = self.spend_the_budget_in_one_chunk("budget")
        self.assertEqual(int(model.optimizer.iterations.numpy()), 3)  # One chunk, then stop.
        latest = tf.train.latest_checkpoint(str(model_dir / "checkpoints"))
        self.assertTrue(latest.endswith("ckpt-3"), latest)

    def test_a_timed_learning_rate_drop_ends_a_spent_budget_at_the_lower_rate(self):
        model, model_dir = self.spend_the_budget_in_one_chunk(
            "timed", timed_learning_rate_drop=True
        )
        _, config, _ = loading.restore_model(model_dir)
        self.assertAllClose(float(model.optimizer.learning_rate), config.learning_rate / 10)

    def test_resuming_with_a_different_config_is_refused(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "mismatch"
        train_lib.train("beta_vae", model_dir, steps=2, runlocal=True, verbose=0)
        self.assert_resuming_with_a_fixed_beta_is_refused(model_dir)

    def test_a_run_written_before_a_config_field_existed_resumes_at_its_default(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "older"
        train_lib.train("beta_vae", model_dir, steps=2, runlocal=True, verbose=0)
        config_path = model_dir / "config.json"
        record = json.loads(config_path.read_text())
        del record["config"]["fixed_beta"]  # As if written before the field was added.
        config_path.write_text(json.dumps(record))
        model = train_lib.train("beta_vae", model_dir, steps=3, runlocal=True, verbose=0)
        self.assertEqual(int(model.optimizer.iterations.numpy()), 3)
        self.assert_resuming_with_a_fixed_beta_is_refused(model_dir)

    def test_a_run_written_before_a_changed_default_keeps_the_old_behaviour(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "legacy"
        old = {
            "style_layer_balance": "summed",
            "weight_sum_power": 0.0,
            "input_stride": 1,
            "output_kernel": 9,
        }
        options = dict(runlocal=True, verbose=0)
        train_lib.train("style_transfer", model_dir, steps=1, config_overrides=old, **options)
        config_path = model_dir / "config.json"
        record = json.loads(config_path.read_text())
        for field in old:
            del record["config"][field]  # As if written before these fields existed.
        config_path.write_text(json.dumps(record))
        _, config, _ = loading.load_run(model_dir)
        self.assertEqual(config.style_layer_balance, "summed")
        self.assertEqual(config.weight_sum_power, 0.0)
        self.assertEqual((config.input_stride, config.output_kernel), (1, 9))  # Johnson's.
        # Today's defaults are another objective: resuming under them is refused ...
        with self.assertRaisesRegex(ValueError, "different task, config, seed or precision"):
            train_lib.train("style_transfer", model_dir, steps=2, **options)
        # ... and the old objective, spelled out, resumes.
        model = train_lib.train(
            "style_transfer", model_dir, steps=2, config_overrides=old, **options
        )
        self.assertEqual(int(model.optimizer.iterations.numpy()), 2)

    def test_a_codec_run_written_before_the_loss_division_keeps_the_plain_loss(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "legacy_codec"
        options = dict(runlocal=True, verbose=0)
        train_lib.train("compression", model_dir, steps=1, **options)
        config_path = model_dir / "config.json"
        record = json.loads(config_path.read_text())
        self.assertEqual(record["config"]["weight_sum_power"], 1.0)  # Today's default.
        del record["config"]["weight_sum_power"]  # As if written before the field existed.
        config_path.write_text(json.dumps(record))
        _, config, _ = loading.load_run(model_dir)
        self.assertEqual(config.weight_sum_power, 0.0)

    # Slow (a training run); the float-index codec's coding is in the fast FloatIndexCodecTest.
    @pytest.mark.slow
    def test_a_codec_run_written_before_integer_indexes_resumes_with_its_float_ones(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "float_index_codec"
        options = dict(runlocal=True, verbose=0)
        overrides = {"integer_entropy_parameters": False}
        train_lib.train("compression", model_dir, steps=1, config_overrides=overrides, **options)
        config_path = model_dir / "config.json"
        record = json.loads(config_path.read_text())
        del record["config"]["integer_entropy_parameters"]  # As written before the field.
        config_path.write_text(json.dumps(record))
        restored, _, _ = loading.restore_model(model_dir)
        self.assertFalse(restored.integer_entropy_parameters)
        self.assertIsNone(restored.coding_fingerprint())
        model = train_lib.train(
            "compression", model_dir, steps=2, config_overrides=overrides, **options
        )
        self.assertEqual(int(model.optimizer.iterations.numpy()), 2)

    def test_a_checkpoint_without_some_of_the_models_variables_is_refused_by_name(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "unconditioned"
        overrides = {"conditioned": False}
        train_lib.train("beta_vae", model_dir, steps=1, runlocal=True, config_overrides=overrides)
        config_path = model_dir / "config.json"
        record = json.loads(config_path.read_text())
        record["config"]["conditioned"] = True  # A model with FiLM layers the run never had.
        config_path.write_text(json.dumps(record))
        with self.assertRaisesRegex(ValueError, r"ckpt-1 does not fit the beta_vae model"):
            loading.restore_model(model_dir)

    def test_bad_overrides_and_unknown_tasks_are_refused(self):
        with self.assertRaisesRegex(ValueError, "Unknown beta_vae config fields"):
            train_lib.make_config("beta_vae", {"betta": 1.0})
        with self.assertRaisesRegex(ValueError, "LogUniform low must be > 0"):
            train_lib.make_config("beta_vae", {"beta_low": 0.0})
        with self.assertRaisesRegex(ValueError, "known tasks"):
            zoo.get_task("gan")

    def test_override_strings_become_typed_values_and_errors_name_their_flag(self):
        from zoo import flags_util
        from zoo.compression import config as compression_config

        overrides = flags_util.parse_overrides(
            ["num_filters=96", "learning_rate_drops=[10, 20]", "crop_weighting=image"],
            compression_config.Config,
        )
        self.assertEqual(
            overrides,
            {"num_filters": 96, "learning_rate_drops": (10, 20), "crop_weighting": "image"},
        )
        with self.assertRaisesRegex(ValueError, "^--fixed_config expects field=value"):
            flags_util.parse_overrides(["filters=96"], compression_config.Config, "--fixed_config")
        with self.assertRaisesRegex(ValueError, "^--config expects field=value"):
            flags_util.parse_overrides(["num_filters"], compression_config.Config)

    def test_restore_without_a_checkpoint_names_the_directory(self):
        with self.assertRaisesRegex(FileNotFoundError, "not a model directory"):
            loading.restore_model(self.get_temp_dir())


class BinariesTest(tf.test.TestCase):
    def run_module(self, *args):
        return subprocess.run(
            [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300
        )

    def test_train_then_evaluate_binaries_write_csv_and_plot(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "binary"
        output_dir = pathlib.Path(self.get_temp_dir()) / "eval"
        trained = self.run_module(
            "zoo.training.train",
            "--runlocal",
            f"--model_dir={model_dir}",
            "--steps=3",
            "--log_every=3",
        )
        self.assertEqual(trained.returncode, 0, trained.stderr[-2000:])
        evaluated = self.run_module(
            "zoo.evaluation.evaluate",
            f"--model_dirs={model_dir}",
            "--examples=20",
            "--grid=0.125,8,512",
            f"--output_dir={output_dir}",
        )
        self.assertEqual(evaluated.returncode, 0, evaluated.stderr[-2000:])
        lines = (output_dir / "terms.csv").read_text().splitlines()
        self.assertEqual(lines[0], "model,beta,reconstruction,kl,total")
        self.assertLen(lines, 4)
        self.assertEqual((output_dir / "terms.png").read_bytes()[:4], b"\x89PNG")

    def test_train_binary_reports_bad_flags_with_exit_code_two(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "bad"
        result = self.run_module(
            "zoo.training.train", "--runlocal", f"--model_dir={model_dir}", "--config=beta_low=-1"
        )
        self.assertEqual(result.returncode, 2)
        self.assertIn("LogUniform low must be > 0", result.stderr)
        self.assertFalse(model_dir.exists())


if __name__ == "__main__":
    tf.test.main()

import pathlib
import re

import tensorflow as tf

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _block(marker: str) -> str:
    """The README's one Python code block that contains `marker`."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    found = [block for block in blocks if marker in block]
    assert len(found) == 1, f"expected one README Python block with {marker!r}, found {len(found)}"
    return found[0]


class ReadmeTest(tf.test.TestCase):
    def test_readme_model_fit_example_runs_in_under_thirty_lines(self):
        code = _block("class Denoiser")
        self.assertLessEqual(len(code.strip().splitlines()), 30)
        tf.keras.utils.set_random_seed(0)
        namespace = {}
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
        result = namespace["model"].evaluate(
            namespace["noisy"], namespace["noisy"], verbose=0, return_dict=True
        )
        self.assertEqual(set(result), {"loss", "data", "smooth"})
        self.assertAllClose(result["loss"], result["data"] + 10.0 * result["smooth"], rtol=1e-4)

    def test_readme_model_saves_whole_and_loads_back_with_keras(self):
        code = _block("class Denoiser")
        tf.keras.utils.set_random_seed(0)
        namespace = {}
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
        model, noisy = namespace["model"], namespace["noisy"][:8]
        path = pathlib.Path(self.get_temp_dir()) / "denoiser.keras"
        model.save(path)
        loaded = tf.keras.models.load_model(
            path, custom_objects={"Denoiser": namespace["Denoiser"]}
        )
        self.assertEqual(loaded.evaluation_weights, {"data": 1.0, "smooth": 10.0})
        self.assertAllClose(loaded.predict(noisy, verbose=0), model.predict(noisy, verbose=0))

    def test_readme_calibration_example_learns_a_second_task_without_forgetting(self):
        code = _block("class Classifier(yoto_tf.CalibratedModel)")
        self.assertLessEqual(len(code.strip().splitlines()), 30)
        tf.keras.utils.set_random_seed(0)
        namespace = {}
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
        model = namespace["model"]
        self.assertEqual(model.task_classes, (2, 3))
        self.assertEqual(namespace["after"].shape, (256, 3))


if __name__ == "__main__":
    tf.test.main()

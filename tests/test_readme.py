import pathlib
import re

import tensorflow as tf

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


class ReadmeTest(tf.test.TestCase):
    def test_readme_model_fit_example_runs_in_under_thirty_lines(self):
        blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
        self.assertLen(blocks, 1)
        code = blocks[0]
        self.assertLessEqual(len(code.strip().splitlines()), 30)
        tf.keras.utils.set_random_seed(0)
        namespace = {}
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
        result = namespace["model"].evaluate(
            namespace["noisy"], namespace["noisy"], verbose=0, return_dict=True
        )
        self.assertEqual(set(result), {"loss", "data", "smooth"})
        self.assertAllClose(result["loss"], result["data"] + 10.0 * result["smooth"], rtol=1e-4)


if __name__ == "__main__":
    tf.test.main()
